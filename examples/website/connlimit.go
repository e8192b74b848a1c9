package main

import (
	"math"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// A connection's buffers, and what the default connection limit budgets
// for each.
//
// gVisor's TCP has no global bound on its buffers, as Linux has tcp_mem:
// a client that sends requests and does not read the answers holds a send
// buffer full of answers and a receive buffer full of requests. With the
// stack's defaults (1 MiB each, growing to 4 MiB) a few dozen such clients
// exhausted a 128 MiB VM. So the website gives each connection a send
// buffer of connWriteBuffer, room for a page and its assets' worth of
// answers, and a receive buffer of connReadBuffer (the site takes no
// request bodies), and budgets connMemory for one: what both buffers may
// hold, twice over (a buffer's memory may be up to twice its bytes), with
// room for the collector to keep up with clients that come and go.
const (
	connWriteBuffer = 256 << 10
	connReadBuffer  = 64 << 10
	connMemory      = 1 << 20
	baseMemory      = 32 << 20 // the website itself: its site, the NIC's buffers
	minConns        = 8        // the least default limit, for the smallest VMs
)

// defaultMaxConns is the connection limit when --max-connections is not
// given: one per connMemory of the Go memory limit beyond baseMemory (in
// hvt and spt the monitor sets GOMEMLIMIT below --mem: 256 MiB gives 175),
// none without a limit (unix mode, where the host's TCP bounds its own
// memory).
func defaultMaxConns() int {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return 0
	}
	return max(int((limit-baseMemory)/connMemory), minConns)
}

// bufferSizer is a connection whose buffers can be sized: the stack's and
// the host's TCP connections.
type bufferSizer interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

// connLimit bounds the connections that the servers' listeners hold at
// once, all listeners together: at the limit, a new connection is reset
// (see limitedListener.Accept). Nearing it (three quarters), pressure is
// reported, and the website turns keep-alive off, which closes idle
// connections and has busy ones close after their answer, so that new
// clients get their turn; under half, it is reported over.
type connLimit struct {
	max int

	// pressure is called as pressure begins and ends, one call at a time
	// (report), never under mu: turning keep-alive off closes
	// connections, which come back here.
	pressure func(on bool, active int)
	report   sync.Mutex

	mu      sync.Mutex
	active  int  // open connections
	pressed bool // as last reported

	shed atomic.Int64 // connections reset for want of a slot
}

func newConnLimit(max int, pressure func(on bool, active int)) *connLimit {
	return &connLimit{max: max, pressure: pressure}
}

// acquire counts a connection opened, if the limit has room for it.
func (l *connLimit) acquire() bool {
	l.mu.Lock()
	ok := l.active < l.max
	if ok {
		l.active++
	}
	l.mu.Unlock()
	if ok {
		l.settle()
	}
	return ok
}

// release counts a connection closed.
func (l *connLimit) release() {
	l.mu.Lock()
	l.active--
	l.mu.Unlock()
	l.settle()
}

// settle reports pressure if the count changed it.
func (l *connLimit) settle() {
	// Whoever reports looks again after it is done, so a caller that finds
	// the report busy may leave: its change will be seen.
	for l.due() {
		if !l.report.TryLock() {
			return
		}
		l.mu.Lock()
		changed, active := l.dueLocked(), l.active
		if changed {
			l.pressed = !l.pressed
		}
		on := l.pressed
		l.mu.Unlock()
		if changed {
			l.pressure(on, active)
		}
		l.report.Unlock()
	}
}

// due reports whether pressure has begun or ended since it was reported.
func (l *connLimit) due() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dueLocked()
}

func (l *connLimit) dueLocked() bool {
	if l.pressed {
		return l.active*2 < l.max
	}
	return l.active*4 >= l.max*3
}

// listener wraps ln so that its connections count against the limit and
// have the buffers it budgets for.
func (l *connLimit) listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, limit: l}
}

type limitedListener struct {
	net.Listener
	limit *connLimit
}

// Accept returns the next connection that fits under the limit. One that
// does not is reset at once: waiting in the listen queue instead, it would
// hold a receive buffer that the limit does not count (the stack's, 1 MiB),
// as many as the queue holds.
func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !ll.limit.acquire() {
			ll.limit.shed.Add(1)
			if lc, ok := c.(interface{ SetLinger(int) error }); ok {
				lc.SetLinger(0) // a reset, which drops what the buffers hold
			}
			c.Close()
			continue
		}
		if bs, ok := c.(bufferSizer); ok {
			bs.SetReadBuffer(connReadBuffer)
			bs.SetWriteBuffer(connWriteBuffer)
		}
		return &limitedConn{Conn: c, limit: ll.limit}, nil
	}
}

// limitedConn gives its slot back when it is closed, once.
type limitedConn struct {
	net.Conn
	limit    *connLimit
	released atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if !c.released.Swap(true) {
		c.limit.release()
	}
	return err
}

// CloseWrite is the connection's: net/http half-closes with it before it
// closes a connection whose client may still be sending.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
