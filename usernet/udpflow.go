package usernet

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxDatagram is the largest UDP payload either side can carry.
const maxDatagram = 64 << 10

// flow is one UDP conversation: between a host client and the guest's
// port (a forward), or between a guest socket and a host address
// (outbound). It ends when neither direction has carried a datagram for
// idle.
type flow struct {
	idle time.Duration
	last atomic.Int64 // time.Now().UnixNano() of the last datagram
}

func newFlow(idle time.Duration) *flow {
	f := &flow{idle: idle}
	f.touch()
	return f
}

func (f *flow) touch() { f.last.Store(time.Now().UnixNano()) }

func (f *flow) expired() bool {
	return time.Since(time.Unix(0, f.last.Load())) >= f.idle
}

// pump reads datagrams from src and hands each to send, until src fails or
// the flow expires.
func (f *flow) pump(src net.Conn, send func([]byte)) {
	buf := make([]byte, maxDatagram)
	for {
		src.SetReadDeadline(time.Now().Add(f.idle))
		n, err := src.Read(buf)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
				if !f.expired() {
					continue // the other direction kept the flow alive
				}
				return
			case errors.Is(err, syscall.ECONNREFUSED):
				continue // an ICMP port unreachable for an earlier datagram
			}
			return
		}
		f.touch()
		send(buf[:n])
	}
}

// flowCount bounds a set of flows.
type flowCount struct {
	mu  sync.Mutex
	n   int
	max int
}

func (c *flowCount) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= c.max {
		return false
	}
	c.n++
	return true
}

func (c *flowCount) release() {
	c.mu.Lock()
	c.n--
	c.mu.Unlock()
}
