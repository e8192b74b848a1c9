package stack

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// Keep-alive defaults: Go's net enables keep-alives on every TCP
// connection with these, and so does this stack.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// gonetTCPConn names gonet's connection so that TCPConn can embed it
// without exporting it.
type gonetTCPConn = gonet.TCPConn

// TCPConn is a TCP connection of a Stack. It is gonet's net.Conn with the
// standard library's errors and the socket options of *net.TCPConn that
// servers and clients set.
type TCPConn struct {
	*gonetTCPConn
	sk     *socket
	closed atomic.Bool
}

func newTCPConn(sk *socket) *TCPConn {
	c := &TCPConn{gonetTCPConn: gonet.NewTCPConn(sk.wq, sk.ep), sk: sk}
	c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
	return c
}

func (c *TCPConn) Read(b []byte) (int, error) {
	n, err := c.gonetTCPConn.Read(b)
	if err != nil && (err != io.EOF || c.closed.Load()) {
		err = c.fix(err, "read")
	}
	return n, err
}

func (c *TCPConn) Write(b []byte) (int, error) {
	n, err := c.gonetTCPConn.Write(b)
	if err != nil {
		err = c.fix(err, "write")
	}
	return n, err
}

// Close closes the connection; a second Close returns net.ErrClosed.
func (c *TCPConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	return c.gonetTCPConn.Close()
}

// CloseRead shuts down the reading side of the connection.
func (c *TCPConn) CloseRead() error {
	return c.fix(c.gonetTCPConn.CloseRead(), "shutdown")
}

// CloseWrite shuts down the writing side: the peer reads EOF.
func (c *TCPConn) CloseWrite() error {
	return c.fix(c.gonetTCPConn.CloseWrite(), "shutdown")
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

func (c *TCPConn) fix(err error, syscallName string) error {
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		return c.opError(syscallName, net.ErrClosed)
	}
	return fixOpError(err, syscallName)
}

func (c *TCPConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.sk.network, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
