package stack

import (
	"net"
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
