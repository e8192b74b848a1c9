package stack

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// gonetUDPConn names gonet's socket so that UDPConn can embed it without
// exporting it.
type gonetUDPConn = gonet.UDPConn

// UDPConn is a UDP socket of a Stack, a net.PacketConn (and, dialed, a
// net.Conn). It is gonet's with the standard library's errors, and it
// takes destination addresses in any form net produces (IPv4 as 4 or 16
// bytes), where gonet's wants them in the socket's own. A socket of
// ListenPacket may also have the UDP fast path (udpfast.go), whose
// datagrams ReadFrom returns along with gVisor's.
type UDPConn struct {
	*gonetUDPConn
	sk     *socket
	closed atomic.Bool
	fast   *fastSock // nil: every datagram goes through gVisor
}

func newUDPConn(sk *socket) *UDPConn {
	return &UDPConn{gonetUDPConn: gonet.NewUDPConn(sk.wq, sk.ep), sk: sk}
}

func (c *UDPConn) Read(b []byte) (int, error) {
	if c.fast != nil {
		n, _, err := c.fast.read(c, b)
		return n, c.fix(err, "read")
	}
	n, err := c.gonetUDPConn.Read(b)
	return n, c.fix(err, "read")
}

func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.fast != nil {
		n, from, err := c.fast.read(c, b)
		if err != nil {
			return 0, nil, c.fix(err, "recvfrom")
		}
		return n, net.UDPAddrFromAddrPort(from), nil
	}
	n, addr, err := c.gonetUDPConn.ReadFrom(b)
	return n, addr, c.fix(err, "recvfrom")
}

// ReadFromUDPAddrPort is ReadFrom with the sender as a netip.AddrPort, as
// net.UDPConn's: it does not allocate. An IPv4 sender is an IPv4 address
// (not IPv4-mapped), on a dual-stack socket too, as ReadFrom's.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.fast != nil {
		n, from, err := c.fast.read(c, b)
		return n, from, c.fix(err, "recvfrom")
	}
	n, addr, err := c.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return n, addr.(*net.UDPAddr).AddrPort(), nil
}

func (c *UDPConn) Write(b []byte) (int, error) {
	n, err := c.gonetUDPConn.Write(b)
	return n, c.fix(err, "write")
}

// WriteTo sends b to addr, a *net.UDPAddr.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.opError("write", addr, syscall.EINVAL)
	}
	a, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return 0, c.opError("write", addr, syscall.EINVAL)
	}
	if c.fast != nil && ua.Port > 0 && ua.Port <= 0xffff && c.writeFast(b, netip.AddrPortFrom(a, uint16(ua.Port))) {
		return len(b), nil
	}
	if c.sk.proto == ipv4.ProtocolNumber {
		if a = a.Unmap(); !a.Is4() {
			return 0, c.opError("write", addr, syscall.EAFNOSUPPORT)
		}
	} else if a.Is4() {
		a = netip.AddrFrom16(a.As16()) // IPv4-mapped, on a dual-stack socket
	}
	n, err := c.gonetUDPConn.WriteTo(b, &net.UDPAddr{IP: a.AsSlice(), Port: ua.Port})
	return n, c.fix(err, "sendto")
}

// WriteToUDPAddrPort is WriteTo with the destination as a netip.AddrPort,
// as net.UDPConn's: it does not allocate on the fast path.
func (c *UDPConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if c.fast != nil && c.writeFast(b, addr) {
		return len(b), nil
	}
	return c.WriteTo(b, net.UDPAddrFromAddrPort(addr))
}

// writeFast sends b on the fast path if it can.
func (c *UDPConn) writeFast(b []byte, to netip.AddrPort) bool {
	a := to.Addr().Unmap()
	return a.Is4() && !c.closed.Load() && c.fast.writeTo(b, netip.AddrPortFrom(a, to.Port()))
}

// SetDeadline, SetReadDeadline and SetWriteDeadline are gonet's; with the
// fast path, reads keep their own deadline (they never go through gonet),
// and writes both.
func (c *UDPConn) SetDeadline(t time.Time) error {
	if c.fast != nil {
		c.fast.rd.set(t)
		return c.SetWriteDeadline(t)
	}
	return c.gonetUDPConn.SetDeadline(t)
}

func (c *UDPConn) SetReadDeadline(t time.Time) error {
	if c.fast != nil {
		c.fast.rd.set(t)
		return nil
	}
	return c.gonetUDPConn.SetReadDeadline(t)
}

func (c *UDPConn) SetWriteDeadline(t time.Time) error {
	if c.fast != nil {
		c.fast.writeDeadline.Store(unixNano(t))
	}
	return c.gonetUDPConn.SetWriteDeadline(t)
}

// unixNano is t in nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Close closes the socket; a second Close returns net.ErrClosed.
func (c *UDPConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", nil, net.ErrClosed)
	}
	if c.fast != nil {
		c.fast.close()
	}
	return c.gonetUDPConn.Close()
}

func (c *UDPConn) fix(err error, syscallName string) error {
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		return c.opError(syscallName, nil, net.ErrClosed)
	}
	return fixOpError(err, syscallName)
}

func (c *UDPConn) opError(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: c.sk.network, Source: c.LocalAddr(), Addr: addr, Err: err}
}
