package stack

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Keep-alive defaults: Go's net enables keep-alives on every TCP
// connection with these, and so does this stack.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// TCPConn is a TCP connection of a Stack: a net.Conn with the standard
// library's errors and the socket options of *net.TCPConn that servers and
// clients set.
//
// It talks to gVisor's endpoint itself rather than through gonet's
// adapter, whose deadlines cost a timer per SetDeadline and whose blocked
// operations a channel each; here setting a deadline stores a time, and a
// blocked Read or Write reuses the connection's timer and notification
// channel (see deadline.go). Reads are serialised, as are writes, as in
// package net, so that a Write is never interleaved with another.
type TCPConn struct {
	sk     *socket
	closed atomic.Bool
	// The addresses, known once connected and fixed from then on: kept,
	// as package net keeps them, since every error carries them and
	// net/http ends each request's background read with one.
	laddr, raddr net.Addr

	r, w side
	// What the operations hand the endpoint, kept here (under r.mu and
	// w.mu) because through the endpoint's interface they would escape:
	// an allocation per call.
	rbuf tcpip.SliceWriter
	wbuf bytes.Reader
}

func newTCPConn(sk *socket) *TCPConn {
	c := &TCPConn{sk: sk, laddr: endpointAddr(sk.ep.GetLocalAddress()), raddr: endpointAddr(sk.ep.GetRemoteAddress())}
	c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
	return c
}

// Read reads what the connection has received, blocking until there is
// something, the peer closes (io.EOF) or the read deadline passes.
func (c *TCPConn) Read(b []byte) (int, error) {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.closed.Load() {
		return 0, c.opError("read", net.ErrClosed)
	}
	if len(b) == 0 {
		return 0, nil
	}
	defer c.r.unregister(c.sk.wq)
	for {
		if c.r.deadline.passed() {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		c.rbuf = b
		res, terr := c.sk.ep.Read(&c.rbuf, tcpip.ReadOptions{})
		c.rbuf = nil
		switch terr.(type) {
		case nil:
			c.sk.ep.ModerateRecvBuf(res.Count)
			return res.Count, nil
		case *tcpip.ErrWouldBlock:
		case *tcpip.ErrClosedForReceive:
			if c.closed.Load() {
				return 0, c.opError("read", net.ErrClosed)
			}
			return 0, io.EOF
		default:
			return 0, c.fail("read", terr)
		}
		if !c.r.registered {
			c.r.register(c.sk.wq, waiter.ReadableEvents)
			continue // what arrived before the registration raised no event
		}
		if c.r.wait() {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
	}
}

// Write writes all of b, blocking while the send buffer is full, unless
// the write deadline passes first.
func (c *TCPConn) Write(b []byte) (int, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if c.closed.Load() {
		return 0, c.opError("write", net.ErrClosed)
	}
	defer c.w.unregister(c.sk.wq)
	defer c.wbuf.Reset(nil)
	n := 0
	for n < len(b) {
		if c.w.deadline.passed() {
			return n, c.opError("write", os.ErrDeadlineExceeded)
		}
		c.wbuf.Reset(b[n:])
		m, terr := c.sk.ep.Write(&c.wbuf, tcpip.WriteOptions{})
		n += int(m)
		switch terr.(type) {
		case nil:
			continue // a short write: the rest goes in the next round
		case *tcpip.ErrWouldBlock:
		default:
			return n, c.fail("write", terr)
		}
		if !c.w.registered {
			c.w.register(c.sk.wq, waiter.WritableEvents)
			continue
		}
		if c.w.wait() {
			return n, c.opError("write", os.ErrDeadlineExceeded)
		}
	}
	return n, nil
}

// Close closes the connection; a second Close returns net.ErrClosed.
func (c *TCPConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	c.sk.ep.Close()
	return nil
}

// LocalAddr is the connection's local address.
func (c *TCPConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr is the peer's address.
func (c *TCPConn) RemoteAddr() net.Addr { return c.raddr }

// endpointAddr is an endpoint's address as a *net.TCPAddr, or nil (not an
// untyped nil inside net.Addr) when it has none.
func endpointAddr(fa tcpip.FullAddress, terr tcpip.Error) net.Addr {
	if terr != nil {
		return nil
	}
	return tcpAddr(addrFromTCPIP(fa.Addr), fa.Port)
}

// SetDeadline sets the read and write deadlines; the zero time means none.
// Operations blocked at the time see the new deadline.
func (c *TCPConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.r.deadline.set(t)
	c.w.deadline.set(t)
	return nil
}

// SetReadDeadline sets the read deadline.
func (c *TCPConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.r.deadline.set(t)
	return nil
}

// SetWriteDeadline sets the write deadline.
func (c *TCPConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.w.deadline.set(t)
	return nil
}

// CloseRead shuts down the reading side of the connection.
func (c *TCPConn) CloseRead() error { return c.shutdown(tcpip.ShutdownRead) }

// CloseWrite shuts down the writing side: the peer reads EOF.
func (c *TCPConn) CloseWrite() error { return c.shutdown(tcpip.ShutdownWrite) }

func (c *TCPConn) shutdown(how tcpip.ShutdownFlags) error {
	if c.closed.Load() {
		return c.opError("shutdown", net.ErrClosed)
	}
	if terr := c.sk.ep.Shutdown(how); terr != nil {
		return c.fail("shutdown", terr)
	}
	return nil
}

// SetKeepAlive turns keep-alive probes on or off.
func (c *TCPConn) SetKeepAlive(on bool) error {
	c.sk.ep.SocketOptions().SetKeepAlive(on)
	return nil
}

// SetKeepAlivePeriod sets the idle time before the first probe and the
// time between probes, as net.TCPConn's does.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: d, Count: -1})
}

// SetKeepAliveConfig configures keep-alive probes as net.TCPConn's does:
// zero fields take the defaults (15 s, 15 s, 9), negative ones leave the
// setting as it is.
func (c *TCPConn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	ep := c.sk.ep
	ep.SocketOptions().SetKeepAlive(cfg.Enable)
	if !cfg.Enable {
		return nil
	}
	idle, interval, count := cfg.Idle, cfg.Interval, cfg.Count
	if idle == 0 {
		idle = keepAliveIdle
	}
	if interval == 0 {
		interval = keepAliveInterval
	}
	if count == 0 {
		count = keepAliveCount
	}
	if idle > 0 {
		o := tcpip.KeepaliveIdleOption(max(idle, time.Second))
		if err := ep.SetSockOpt(&o); err != nil {
			return c.opError("set", sysErr("setsockopt", err))
		}
	}
	if interval > 0 {
		o := tcpip.KeepaliveIntervalOption(max(interval, time.Second))
		if err := ep.SetSockOpt(&o); err != nil {
			return c.opError("set", sysErr("setsockopt", err))
		}
	}
	if count > 0 {
		if err := ep.SetSockOptInt(tcpip.KeepaliveCountOption, count); err != nil {
			return c.opError("set", sysErr("setsockopt", err))
		}
	}
	return nil
}

// SetReadBuffer sets the size of the receive buffer, as SO_RCVBUF does:
// it bounds the window offered to the peer, and ends the buffer's growth
// by auto-tuning. A server that bounds its memory per connection sets it.
func (c *TCPConn) SetReadBuffer(bytes int) error {
	if bytes < 0 {
		return c.opError("set", os.NewSyscallError("setsockopt", syscall.EINVAL))
	}
	c.sk.ep.SocketOptions().SetReceiveBufferSize(int64(bytes), true)
	return nil
}

// SetWriteBuffer sets the size of the send buffer, as SO_SNDBUF does: what
// has been written and not yet acknowledged, and ends its growth by
// auto-tuning.
func (c *TCPConn) SetWriteBuffer(bytes int) error {
	if bytes < 0 {
		return c.opError("set", os.NewSyscallError("setsockopt", syscall.EINVAL))
	}
	c.sk.ep.SocketOptions().SetSendBufferSize(int64(bytes), true)
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true, the default) or on.
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	c.sk.ep.SocketOptions().SetDelayOption(!noDelay)
	return nil
}

// SetLinger sets what Close does with unsent data, as net.TCPConn's does.
func (c *TCPConn) SetLinger(sec int) error {
	opt := tcpip.LingerOption{Enabled: sec >= 0, Timeout: time.Duration(max(sec, 0)) * time.Second}
	c.sk.ep.SocketOptions().SetLinger(opt)
	return nil
}

// fail turns an endpoint's error into the one package net returns.
func (c *TCPConn) fail(syscallName string, terr tcpip.Error) error {
	if c.closed.Load() {
		return c.opError(syscallName, net.ErrClosed)
	}
	return c.opError(syscallName, sysErr(syscallName, terr))
}

func (c *TCPConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.sk.network, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
