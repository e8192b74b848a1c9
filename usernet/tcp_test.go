package usernet

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morgana-os/morgana/ackdelay"
)

func TestTCPForwardHTTP(t *testing.T) {
	n, g := startPair(t, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 80)}})
	ln := g.listenTCP(t, 80)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the guest, %s %s", r.Method, r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	if got := n.Forwards()[0].HostAddr.Port(); got == 0 {
		t.Fatalf("Forwards() reports port 0, want the port the host picked")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + hostAddr(n, 0) + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello from the guest, GET /x"; string(body) != want {
		t.Errorf("body %q, want %q", body, want)
	}
}

// TestTCPForwardDelayedACKs: the gateway's netstack acknowledges each
// answer of the guest at once; its link holds that ACK back until the
// next request carries it (package ackdelay), so a keep-alive client's
// requests cost the guest one frame each, not two.
func TestTCPForwardDelayedACKs(t *testing.T) {
	mon, gst, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	n, err := Start(mon, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 80)}, Log: testLog(t)})
	if err != nil {
		gst.Close()
		t.Fatal(err)
	}
	var pure atomic.Int64
	g := newGuestSeeing(t, gst, n.cfg.MTU, func(f []byte) bool {
		if ackdelay.PureACK(f) {
			pure.Add(1)
		}
		return true
	})
	t.Cleanup(func() {
		n.Close()
		g.close()
	})
	ln := g.listenTCP(t, 80)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1000))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	client := &http.Client{Timeout: 10 * time.Second}
	get := func() {
		resp, err := client.Get("http://" + hostAddr(n, 0) + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get() // the connection, kept alive
	const requests = 200
	before := pure.Load()
	for range requests {
		get()
	}
	// Some may miss: an answer later than the delay (a loaded machine, the
	// race detector). Without the delay there is one per request.
	if got := pure.Load() - before; got > requests/2 {
		t.Errorf("the guest received %d pure ACKs for %d requests", got, requests)
	}
	if st := n.Stats(); st.ACKsCarried < requests/2 || st.ACKsCarried > st.ACKsHeld {
		t.Errorf("Stats: %d ACKs held, %d carried by a later segment, for %d requests", st.ACKsHeld, st.ACKsCarried, requests)
	}
}

// randomStream is n bytes of a seeded pseudo-random stream.
func randomStream(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), n)
}

func sum(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return [32]byte(h.Sum(nil)), n, err
}

// TestTCPForwardBulk sends 8 MiB each way at once through a forward, each
// side ending its half with a half-close, and compares digests: with the
// links' batched socket I/O, and with the frame-at-a-time I/O they use on
// a TAP.
func TestTCPForwardBulk(t *testing.T) {
	for _, perFrame := range []bool{false, true} {
		t.Run(fmt.Sprintf("perFrameIO=%v", perFrame), func(t *testing.T) {
			defer func(old bool) { perFrameIO = old }(perFrameIO)
			perFrameIO = perFrame
			testTCPForwardBulk(t)
		})
	}
}

func testTCPForwardBulk(t *testing.T) {
	const size = 8 << 20
	n, g := startPair(t, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 9000)}})
	ln := g.listenTCP(t, 9000)

	type result struct {
		got [32]byte
		n   int64
		err error
	}
	guestGot := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			guestGot <- result{err: err}
			return
		}
		defer c.Close()
		var wg sync.WaitGroup
		wg.Go(func() {
			io.Copy(c, randomStream(2, size))
			c.(interface{ CloseWrite() error }).CloseWrite()
		})
		s, m, err := sum(c)
		wg.Wait()
		guestGot <- result{s, m, err}
	}()

	c, err := net.Dial("tcp", hostAddr(n, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	sendErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, randomStream(1, size))
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		sendErr <- err
	}()
	hostSum, hostN, err := sum(c)
	if err != nil {
		t.Fatalf("host read after %d bytes: %v", hostN, err)
	}
	if err := <-sendErr; err != nil {
		t.Fatalf("host write: %v", err)
	}
	gr := <-guestGot
	if gr.err != nil {
		t.Fatalf("guest read after %d bytes: %v", gr.n, gr.err)
	}
	want1, _, _ := sum(randomStream(1, size))
	want2, _, _ := sum(randomStream(2, size))
	if gr.n != size || gr.got != want1 {
		t.Errorf("guest got %d bytes, sha256 %x; want %d, %x", gr.n, gr.got, size, want1)
	}
	if hostN != size || hostSum != want2 {
		t.Errorf("host got %d bytes, sha256 %x; want %d, %x", hostN, hostSum, size, want2)
	}
}

// TestTCPForwardConcurrent has 100 connections in flight through one
// forward to an echo server in the guest.
func TestTCPForwardConcurrent(t *testing.T) {
	const conns = 100
	n, g := startPair(t, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 7)}})
	ln := g.listenTCP(t, 7)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	start := make(chan struct{})
	for i := range conns {
		wg.Go(func() {
			<-start
			errs <- echoOnce(hostAddr(n, 0), []byte(fmt.Sprintf("connection %d: %s", i, bytes.Repeat([]byte{byte(i)}, 1000+i))))
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// echoOnce sends msg over a new connection to addr, half-closes, and
// expects msg back.
func echoOnce(addr string, msg []byte) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %d bytes, want %d", len(got), len(msg))
	}
	return nil
}

// TestTCPForwardRefused: with nothing listening on the guest's port, the
// guest resets the gateway's connection and the host connection is closed
// at once, not left hanging.
func TestTCPForwardRefused(t *testing.T) {
	n, _ := startPair(t, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 81)}})
	c, err := net.Dial("tcp", hostAddr(n, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	m, err := c.Read(make([]byte, 1))
	if m != 0 || err == nil {
		t.Fatalf("Read = %d, %v; want the connection closed", m, err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("host connection still open after %v", time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("host connection closed after %v, want promptly", d)
	}
}
