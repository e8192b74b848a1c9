package stack

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// TestTCPConnConformance runs x/net's conformance suite for net.Conn
// (timeouts in the past, present and future, a deadline moved while a
// Read or Write is blocked, Close unblocking both, racing reads and
// writes) over a connection between two stacks.
func TestTCPConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := pair(t)
		l, err := b.Listen(ctxTimeout(t, 5*time.Second), "tcp", ":0")
		if err != nil {
			return nil, nil, nil, err
		}
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				accepted <- nil
				return
			}
			accepted <- c
		}()
		c1, err = a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
		if err != nil {
			return nil, nil, nil, err
		}
		c2 = <-accepted
		if c2 == nil {
			c1.Close()
			t.Fatal("accept failed")
		}
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}

// TestTCPConnAddrs checks that each end's local address is the other's
// remote one, after the connection is closed too (package net keeps them).
func TestTCPConnAddrs(t *testing.T) {
	a, b := pair(t)
	l, err := b.Listen(ctxTimeout(t, 5*time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c1, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), port))
	if err != nil {
		t.Fatal(err)
	}
	c2 := <-accepted
	if c2 == nil {
		t.Fatal("accept failed")
	}
	c1.Close()
	c2.Close()
	for _, tc := range []struct{ name, got, want string }{
		{"dialer's remote", c1.RemoteAddr().String(), hostPort(ip4B.Addr(), port)},
		{"dialer's local", c1.LocalAddr().String(), c2.RemoteAddr().String()},
		{"listener's local", c2.LocalAddr().String(), c1.RemoteAddr().String()},
	} {
		if tc.got != tc.want {
			t.Errorf("%s address %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	if !strings.HasPrefix(c1.LocalAddr().String(), ip4A.Addr().String()+":") {
		t.Errorf("dialer's local address %s, want one of %s", c1.LocalAddr(), ip4A.Addr())
	}
}

// TestTCPConnBuffers: SetReadBuffer and SetWriteBuffer size the
// endpoint's buffers, as SO_RCVBUF and SO_SNDBUF do, and data still flows.
func TestTCPConnBuffers(t *testing.T) {
	c := echoConn(t)
	if err := c.SetReadBuffer(-1); err == nil {
		t.Error("SetReadBuffer(-1) succeeded")
	}
	for _, size := range []int{64 << 10, 256 << 10} {
		if err := c.SetReadBuffer(size); err != nil {
			t.Fatal(err)
		}
		if err := c.SetWriteBuffer(size); err != nil {
			t.Fatal(err)
		}
		opts := c.sk.ep.SocketOptions()
		if r, w := opts.GetReceiveBufferSize(), opts.GetSendBufferSize(); r != int64(size) || w != int64(size) {
			t.Errorf("buffers %d and %d after setting %d", r, w, size)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		msg := make([]byte, 1<<20)
		go c.Write(msg)
		if _, err := io.ReadFull(c, msg); err != nil {
			t.Fatalf("echo of 1 MiB through %d-byte buffers: %v", size, err)
		}
	}
}
