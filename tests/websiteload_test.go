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
		curl := testenv.MustHaveCommand(t, "curl")
		port := freePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		run := startIn(t, m, runSpec{image: buildPackageImage(t, "./examples/website"), mem: "128M",
			monitorFlags: []string{"-p", addr + ":80"}, args: []string{"--access-log", "off"}, timeout: 2 * time.Minute})
		if !run.waitForStderr("msg=ready") {
			t.Fatalf("the website did not start: %s", run.wait().stderr)
		}
		req := strings.Repeat("GET /bench/100k.bin HTTP/1.1\r\nHost: x\r\n\r\n", 64)
		var wg sync.WaitGroup
		end := time.Now().Add(4 * time.Second)
		for range 300 {
			wg.Go(func() {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				c.(*net.TCPConn).SetReadBuffer(4096)
				for time.Now().Before(end) {
					c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
					c.Write([]byte(req))
				}
			})
		}
		wg.Wait()
		out, err := run1(curl, "-sS", "-m", "20", "--retry", "3", "--retry-all-errors", "-o", "/dev/null", "-w", "%{http_code}", "http://"+addr+"/")
		if err != nil || out != "200" {
			t.Errorf("after the attack: curl %v, %q; want 200", err, out)
		}
		run.signal(syscall.SIGTERM)
		if r := run.wait(); r.exit != 0 || !strings.Contains(r.stderr, "keep-alive off") {
			t.Errorf("exit status %d, want 0 after the limit's warning; stderr:\n%s", r.exit, tail(r.stderr, 1500))
		}
	})
}
