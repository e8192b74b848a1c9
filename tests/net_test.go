package tests

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
	"github.com/morgana-os/morgana/internal/tlstest"
)

// The network tests run tests/guests/httpd, a net/http server on the image's own TCP/IP stack
// (package stack), with real peers: curl, ping and dnsmasq on TAPs in namespaces of the test's
// own, and Go's HTTP client through -p.

// freePort returns a TCP port on the loopback that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	return tlstest.FreePort(t)
}

// patternSum is the length and SHA-256 that httpd's /bytes?n=N sends.
func patternSum(n int64) string {
	h := sha256.New()
	b := make([]byte, 251*1024)
	for i := range b {
		b[i] = byte(i % 251)
	}
	for left := n; left > 0; {
		k := min(left, int64(len(b)))
		h.Write(b[:k])
		left -= k
	}
	return fmt.Sprintf("%d %s", n, hex.EncodeToString(h.Sum(nil)))
}

// get fetches url and returns the body's length and SHA-256.
func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	return fmt.Sprintf("%d %s", n, hex.EncodeToString(h.Sum(nil))), err
}

// upload posts n random bytes to /sha256 and checks the guest's sum.
func upload(t testing.TB, c *http.Client, base string, n int64) {
	t.Helper()
	h := sha256.New()
	body := io.TeeReader(io.LimitReader(rand.Reader, n), h)
	resp, err := c.Post(base+"/sha256", "application/octet-stream", body)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf("%d %s\n", n, hex.EncodeToString(h.Sum(nil))); string(got) != want {
		t.Errorf("upload of %d bytes: the guest got %q, want %q", n, got, want)
	}
}

// startHTTPD starts httpd and waits until it serves.
func startHTTPD(t testing.TB, ns *netns, m mode, flags []string, args ...string) *running {
	t.Helper()
	s := runSpec{image: buildImage(t, "httpd"), args: args, monitorFlags: flags, timeout: 5 * time.Minute}
	var run *running
	if ns != nil {
		run = startInNetns(t, ns, m, s)
	} else {
		run = startIn(t, m, s)
	}
	if !run.waitFor("serving") {
		r := run.wait()
		t.Fatalf("httpd did not start (exit %d): %s", r.exit, r.stderr)
	}
	return run
}

// TestPublish reaches a unikernel through -p, user-mode networking with no root and no TAP.
func TestPublish(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			port, udpPort := freePort(t), freePort(t)
			startHTTPD(t, nil, m, []string{"-p", fmt.Sprintf("127.0.0.1:%d:80", port), "-p", fmt.Sprintf("127.0.0.1:%d:7/udp", udpPort)})
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			t.Run("curl", func(t *testing.T) {
				out, err := run1(testenv.MustHaveCommand(t, "curl"), "-sS", "-m", "10", base+"/")
				if err != nil || !strings.Contains(out, "hello from a unikernel") {
					t.Errorf("curl: %v: %q", err, out)
				}
			})
			c := &http.Client{Timeout: 2 * time.Minute}
			t.Run("64MiB-each-way", func(t *testing.T) {
				const n = 64 << 20
				got, err := get(c, fmt.Sprintf("%s/bytes?n=%d", base, n))
				if err != nil || got != patternSum(n) {
					t.Errorf("download: %v: %s", err, got)
				}
				upload(t, c, base, n)
			})
			t.Run("200-connections", func(t *testing.T) {
				concurrent(t, base, 200)
			})
			t.Run("udp-echo", func(t *testing.T) {
				udpEcho(t, fmt.Sprintf("127.0.0.1:%d", udpPort))
			})
		})
	}
}

// concurrent opens n connections at once, each fetching a page.
func concurrent(t *testing.T, base string, n int) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	c := &http.Client{Timeout: time.Minute, Transport: tr}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := get(c, base+"/bytes?n=10000")
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Errorf("%d of %d connections failed, first: %v", len(errs), n, errs[0])
	}
}

// udpEcho sends datagrams to addr and expects each back.
func udpEcho(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 2048)
	for i := 0; i < 10; i++ {
		msg := []byte(fmt.Sprintf("datagram %d %s", i, strings.Repeat("x", 100*i)))
		ok := false
		for try := 0; try < 5 && !ok; try++ { // UDP may drop; the stack's first ARP too
			conn.Write(msg)
			conn.SetReadDeadline(time.Now().Add(time.Second))
			n, err := conn.Read(buf)
			ok = err == nil && bytes.Equal(buf[:n], msg)
		}
		if !ok {
			t.Fatalf("datagram %d not echoed", i)
		}
	}
}

// TestTAP puts a unikernel on a TAP in a namespace: static addresses and DHCP, IPv4 and IPv6,
// ping, curl and bulk transfers, and two unikernels on a bridge.
func TestTAP(t *testing.T) {
	for _, m := range monitorModes() {
		if m.name == "unix" {
			continue // the same descriptors as spt, without the filter
		}
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			curl := testenv.MustHaveCommand(t, "curl")
			testenv.MustHaveCommand(t, "ping")
			t.Run("static", func(t *testing.T) {
				ns := newNetns(t)
				ns.tap(t, "tap0", "10.0.0.1/24")
				ns.ip(t, "-6", "addr", "add", "fd00:1::1/64", "dev", "tap0", "nodad")
				startHTTPD(t, ns, m, []string{"--net", "service=tap0"}, "--ipv4=10.0.0.2/24", "--ipv4-gateway=10.0.0.1", "--ipv6=fd00:1::2/64")
				for _, dst := range []string{"10.0.0.2", "fd00:1::2"} {
					out := ns.run(t, "ping", "-c", "5", "-i", "0.1", "-W", "2", dst)
					if !strings.Contains(out, " 0% packet loss") {
						t.Errorf("ping %s: %s", dst, out)
					}
				}
				for _, url := range []string{"http://10.0.0.2/", "http://[fd00:1::2]/"} {
					if out := ns.run(t, curl, "-sS", "-m", "10", url); !strings.Contains(out, "hello from a unikernel") {
						t.Errorf("curl %s: %q", url, out)
					}
				}
				n := int64(64 << 20)
				if m.name == "hvt" {
					n = 1 << 30 // the whole gigabyte where it matters most
				}
				want := patternSum(n)
				if got := ns.run(t, "sh", "-c", fmt.Sprintf("%s -sS -m 300 'http://10.0.0.2/bytes?n=%d' | sha256sum", curl, n)); !strings.HasPrefix(got, want[strings.IndexByte(want, ' ')+1:]) {
					t.Errorf("download of %d bytes: sum %s, want %s", n, got, want)
				}
				file, sum := randomFile(t, n)
				up := ns.run(t, curl, "-sS", "-m", "300", "-X", "POST", "-T", file, "http://10.0.0.2/sha256")
				if want := fmt.Sprintf("%d %s\n", n, sum); up != want {
					t.Errorf("upload of %d bytes: the guest got %q, want %q", n, up, want)
				}
			})
			t.Run("dhcp", func(t *testing.T) {
				dnsmasq := testenv.MustHaveCommand(t, "dnsmasq")
				ns := newNetns(t)
				ns.tap(t, "tap0", "10.0.3.1/24")
				pidFile := filepath.Join(t.TempDir(), "dnsmasq.pid")
				ns.run(t, dnsmasq, "--port=0", "--interface=tap0", "--bind-interfaces", "--dhcp-range=10.0.3.50,10.0.3.50,1h",
					"--pid-file="+pidFile, "--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"))
				t.Cleanup(func() {
					if b, err := os.ReadFile(pidFile); err == nil {
						run1("kill", strings.TrimSpace(string(b)))
					}
				})
				startHTTPD(t, ns, m, []string{"--net", "service=tap0"})
				if out := ns.run(t, curl, "-sS", "-m", "10", "http://10.0.3.50/"); !strings.Contains(out, "hello from a unikernel") {
					t.Errorf("curl to the leased address: %q", out)
				}
			})
			t.Run("bridge", func(t *testing.T) {
				ns := newNetns(t)
				ns.tap(t, "tap0", "")
				ns.tap(t, "tap1", "")
				ns.bridge(t, "br0", "10.0.4.1/24", "tap0", "tap1")
				startHTTPD(t, ns, m, []string{"--net", "service=tap0"}, "--ipv4=10.0.4.2/24")
				s := runSpec{image: buildImage(t, "httpd"), args: []string{"--ipv4=10.0.4.3/24", "-get", "http://10.0.4.2/bytes?n=10000000"},
					monitorFlags: []string{"--net", "service=tap1"}}
				r := startInNetns(t, ns, m, s).wait()
				if want := "got 200 " + patternSum(10000000); !strings.Contains(r.stdout, want) {
					t.Errorf("the second unikernel got %q, want %q", r.stdout, want)
				}
			})
		})
	}
}

// run1 runs a command and returns its combined output.
func run1(name string, args ...string) (string, error) {
	out, err := osexec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// randomFile writes n random bytes to a temporary file and returns its path and SHA-256.
func randomFile(t testing.TB, n int64) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "random")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rand.Reader, n)); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}
