package main

import (
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// limitedPair listens on loopback under limit and returns the listener and
// a function that dials it and accepts, giving the server's side.
func limitedPair(t *testing.T, limit *connLimit) (net.Listener, func() net.Conn) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limit.listener(inner)
	t.Cleanup(func() { ln.Close() })
	accept := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return ln, accept
}

// TestConnLimitSheds: over the limit a connection is reset and Accept
// goes on to the next; a closed connection frees its slot, once.
func TestConnLimitSheds(t *testing.T) {
	limit := newConnLimit(2, func(bool, int) {})
	ln, accept := limitedPair(t, limit)
	a, b := accept(), accept()
	over, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	got := make(chan net.Conn, 1)
	go func() {
		s, _ := ln.Accept()
		got <- s
	}()
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection over the limit: read %v, want it reset or closed", err)
	}
	if n := limit.shed.Load(); n != 1 {
		t.Errorf("%d connections shed, want 1", n)
	}
	a.Close()
	a.Close() // gives back nothing more
	next, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	var third net.Conn
	select {
	case third = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted after one closed")
	}
	if third == nil {
		t.Fatal("Accept failed")
	}
	if limit.active != 2 {
		t.Errorf("%d connections counted, want 2 (b and the third)", limit.active)
	}
	b.Close()
	third.Close()
	if limit.active != 0 {
		t.Errorf("after every Close: %d counted, want 0", limit.active)
	}
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestConnLimitPressure: pressure is reported at three quarters of the
// limit and over under half, once each way, also when the report itself
// closes connections (as turning keep-alive off does).
func TestConnLimitPressure(t *testing.T) {
	var mu sync.Mutex
	var reports []bool
	var conns []net.Conn
	limit := newConnLimit(8, func(on bool, active int) {
		mu.Lock()
		reports = append(reports, on)
		mu.Unlock()
		if on {
			conns[0].Close() // back under 6 at once, not a new report
		}
	})
	_, accept := limitedPair(t, limit)
	for range 5 {
		conns = append(conns, accept())
	}
	mu.Lock()
	if len(reports) != 0 {
		t.Errorf("reports at 5 of 8: %v, want none", reports)
	}
	mu.Unlock()
	conns = append(conns, accept()) // 6 of 8: pressure; the report closes one
	conns[1].Close()                // 4 of 8: still pressed
	mu.Lock()
	if !slices.Equal(reports, []bool{true}) {
		t.Errorf("reports at 4 of 8: %v, want [true]", reports)
	}
	mu.Unlock()
	conns[2].Close() // 3 of 8, under half: over
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(reports, []bool{true, false}) {
		t.Errorf("reports: %v, want [true false]", reports)
	}
}
