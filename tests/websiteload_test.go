package tests

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// TestWebsiteClientsThatDoNotRead attacks the website in a small VM with 300 clients that send
// pipelined requests for a 100 KB file and never read the answers, each holding its connection's
// buffers full: with the stack's default buffers and no bound on connections, a few dozen of
// them exhausted 128 MiB. The VM must live through it, serve a client after it, and end with 0 on SIGTERM.
func TestWebsiteClientsThatDoNotRead(t *testing.T) {
	inSandboxes(t, func(t *testing.T, m mode) {
		run, out, err := survive(t, m, runSpec{image: buildPackageImage(t, "./examples/website"), args: []string{"--access-log", "off"}},
			func(r *running) bool { return r.waitForStderr("msg=ready") }, "/bench/100k.bin", "/")
		if err != nil || !strings.HasPrefix(out, "200 ") {
			t.Errorf("after the attack: curl %v, %q; want 200", err, out)
		}
		if r := run.wait(); r.exit != 0 || !strings.Contains(r.stderr, "keep-alive off") {
			t.Errorf("exit status %d, want 0 after the limit's warning; stderr:\n%s", r.exit, tail(r.stderr, 1500))
		}
	})
}

// survive runs spec in mode m with --mem 128M, published with -p, and once ready says so attacks
// it with 300 clients that request attack and never read the answers. Then it GETs after with
// curl, sends SIGTERM, and returns the run, for the caller to check how it ended, with curl's
// "STATUS SIZE" and error.
func survive(t *testing.T, m mode, spec runSpec, ready func(*running) bool, attack, after string) (*running, string, error) {
	t.Helper()
	curl := testenv.MustHaveCommand(t, "curl")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	spec.mem, spec.timeout = "128M", 2*time.Minute
	spec.monitorFlags = append(spec.monitorFlags, "-p", addr+":80")
	run := startIn(t, m, spec)
	if !ready(run) {
		t.Fatalf("%s did not start: %s", spec.image, run.wait().stderr)
	}
	attackWithoutReading(addr, attack, 300, 4*time.Second)
	out, err := run1(curl, "-sS", "-m", "20", "--retry", "3", "--retry-all-errors", "-o", "/dev/null",
		"-w", "%{http_code} %{size_download}", "http://"+addr+after)
	run.signal(syscall.SIGTERM)
	return run, out, err
}

// attackWithoutReading opens n connections to addr that, for d, send pipelined GETs of path and
// never read the answers, each with a small receive buffer, and returns when all are closed.
func attackWithoutReading(addr, path string, n int, d time.Duration) {
	req := []byte(strings.Repeat("GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", 64))
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range n {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.(*net.TCPConn).SetReadBuffer(4096)
			for time.Now().Before(end) {
				c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
				c.Write(req)
			}
		})
	}
	wg.Wait()
}
