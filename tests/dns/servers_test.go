package dns

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/morgana-os/morgana/internal/testenv"
)

// zoneFiles are the zones every server under test serves.
var zoneFiles = []string{
	"example.com.zone",
	"example.org.zone",
	"child.example.org.zone",
	"2.0.192.in-addr.arpa.zone",
}

// zoneOrigin returns the origin of a zone file of testdata.
func zoneOrigin(file string) string { return strings.TrimSuffix(file, ".zone") }

// xfrAllowed is the only client address the servers transfer zones to;
// tests ask from 127.0.0.2 to be refused.
const xfrAllowed = "127.0.0.1"

// server is a DNS server under test, listening on 127.0.0.1:port.
type server struct {
	name string
	addr string
	out  *bytes.Buffer
}

var (
	buildOnce sync.Once
	dnsBin    string
	buildErr  error
	buildDir  string
)

// exampleBinary builds examples/dns once per test binary.
func exampleBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root := testenv.MustModuleRoot(t)
		buildDir, buildErr = os.MkdirTemp("", "morgana-dns-test-")
		if buildErr != nil {
			return
		}
		dnsBin = filepath.Join(buildDir, "dns")
		cmd := exec.Command("go", "build", "-o", dnsBin, "./examples/dns")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./examples/dns: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return dnsBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// freePort returns a port that is free on 127.0.0.1 for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// start runs cmd until the test ends, and waits until it answers queries.
func start(t *testing.T, name string, port int, cmd *exec.Cmd) *server {
	t.Helper()
	s := &server{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), out: new(bytes.Buffer)}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		// The whole process group: NSD forks its server and xfrd.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, s.out)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := &mdns.Client{Timeout: 200 * time.Millisecond}
		m := new(mdns.Msg)
		m.SetQuestion("example.com.", mdns.TypeSOA)
		if r, _, err := c.Exchange(m, s.addr); err == nil && r.Rcode == mdns.RcodeSuccess && len(r.Answer) == 1 {
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited before serving: %v\n%s", name, err, s.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on %s\n%s", name, s.addr, s.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startMorgana runs examples/dns on the zones of testdata.
func startMorgana(t *testing.T) *server {
	t.Helper()
	bin := exampleBinary(t)
	port := freePort(t)
	args := []string{"--port", fmt.Sprint(port), "--axfr-allow", xfrAllowed + "/32"}
	for _, f := range zoneFiles {
		args = append(args, "--zone", filepath.Join("testdata", f))
	}
	return start(t, "morgana", port, exec.Command(bin, args...))
}

// exchange sends m to s over network ("udp" or "tcp") and returns the
// response, nil after a timeout.
func (s *server) exchange(t *testing.T, network string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 2 * time.Second, UDPSize: 65535}
	for try := 0; ; try++ {
		r, _, err := c.Exchange(m, s.addr)
		if err == nil {
			return r
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() && try < 2 {
			continue // UDP on a busy machine
		}
		t.Errorf("%s: %s %v: %v", s.name, network, m.Question, err)
		return nil
	}
}

// rawExchange sends the bytes b over UDP and returns the response bytes,
// or nil if none came within wait.
func (s *server) rawExchange(t *testing.T, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// dig runs dig against s and returns its output.
func (s *server) dig(t *testing.T, args ...string) string {
	t.Helper()
	dig := testenv.MustHaveCommand(t, "dig")
	host, port, _ := net.SplitHostPort(s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	argv := append([]string{"@" + host, "-p", port, "+norec", "+nocookie", "+time=2", "+tries=2"}, args...)
	out, err := exec.CommandContext(ctx, dig, argv...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: dig %s: %v\n%s", s.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
