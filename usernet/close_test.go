package usernet

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCloseReleasesGoroutines runs every kind of traffic, leaves some of
// it open (a forwarded connection, an outbound one, UDP flows both ways),
// then closes the network: Close returns promptly, and once the guest and
// the test's own servers are gone too, no goroutine is left.
func TestCloseReleasesGoroutines(t *testing.T) {
	before, fdsBefore := runtime.NumGoroutine(), openFDs(t)
	func() {
		hostLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer hostLn.Close()
		go func() {
			for {
				c, err := hostLn.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(c, c); c.Close() }()
			}
		}()
		hostUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer hostUDP.Close()
		go func() {
			buf := make([]byte, 100)
			for {
				m, from, err := hostUDP.ReadFrom(buf)
				if err != nil {
					return
				}
				hostUDP.WriteTo(buf[:m], from)
			}
		}()

		mon, gst, err := Socketpair()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Start(mon, Config{
			Forwards:  []Forward{tcpFwd("127.0.0.1:0", 80), udpFwd("127.0.0.1:0", 7)},
			Outbound:  true,
			Resolvers: []netip.AddrPort{hostUDP.LocalAddr().(*net.UDPAddr).AddrPort()},
			Log:       testLog(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		closing := false
		defer func() {
			if !closing { // a Close that hung would hang here too
				n.Close()
			}
		}()
		g := newGuest(t, gst, DefaultMTU)
		defer g.close()

		// Forwarded TCP: one request done, one connection left open.
		ln := g.listenTCP(t, 80)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		go srv.Serve(ln)
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + hostAddr(n, 0))
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		open, err := net.Dial("tcp", hostAddr(n, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer open.Close()

		// Forwarded UDP: a flow, left to idle.
		gu := g.listenUDP(t, 7)
		go func() {
			buf := make([]byte, 100)
			for {
				m, from, err := gu.ReadFrom(buf)
				if err != nil {
					return
				}
				gu.WriteTo(buf[:m], from)
			}
		}()
		hc, err := net.Dial("udp", hostAddr(n, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer hc.Close()
		if _, err := udpRoundTrip(hc, "x"); err != nil {
			t.Fatal(err)
		}

		// Outbound TCP, left open, and outbound UDP (DNS), left to idle.
		out, err := g.dialTCP(testContext(t, 10*time.Second), netip.AddrPortFrom(Gateway4, hostLn.Addr().(*net.TCPAddr).AddrPort().Port()))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		out.SetDeadline(time.Now().Add(10 * time.Second))
		out.Write([]byte("y"))
		if b := make([]byte, 1); !readFull(out, b) || !bytes.Equal(b, []byte("y")) {
			t.Fatal("outbound echo failed")
		}
		if _, err := udpRoundTrip(g.dialUDP(t, netip.AddrPortFrom(DNS4, 53)), "z"); err != nil {
			t.Fatal(err)
		}

		start := time.Now()
		closed := make(chan struct{})
		closing = true
		go func() { n.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			var b bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("Close still running after 10s:\n%s", b.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Close took %v", d)
		}
	}()

	var after, fdsAfter int
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		after, fdsAfter = runtime.NumGoroutine(), openFDs(t)
		if after <= before && fdsAfter <= fdsBefore || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fdsAfter > fdsBefore {
		t.Errorf("%d descriptors open before, %d after: %v", fdsBefore, fdsAfter, describeFDs())
	}
	if after > before {
		var b bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, b.String())
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func describeFDs() []string {
	var d []string
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		l, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		d = append(d, fd.Name()+"="+l)
	}
	return d
}

func readFull(r io.Reader, b []byte) bool {
	_, err := io.ReadFull(r, b)
	return err == nil
}

// TestCloseSaysNothingWrong closes a network in use: its log has no
// warning or error, as a normal end is not a failure (the link's reader
// sees its descriptor closed under it).
func TestCloseSaysNothingWrong(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg := Config{Log: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	n, g := startPair(t, cfg)
	ln := g.listenTCP(t, 80)
	go func() {
		if c, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	c, err := g.dialTCP(testContext(t, 5*time.Second), netip.AddrPortFrom(Gateway4, 9))
	if err == nil {
		c.Close()
	}
	n.Close()
	g.close()
	mu.Lock()
	defer mu.Unlock()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("logged at close: %s", line)
		}
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
