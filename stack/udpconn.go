package stack

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// gonetUDPConn names gonet's socket so that UDPConn can embed it without
// exporting it.
type gonetUDPConn = gonet.UDPConn

// UDPConn is a UDP socket of a Stack, a net.PacketConn (and, dialed, a
// net.Conn). It is gonet's with the standard library's errors, and it
// takes destination addresses in any form net produces (IPv4 as 4 or 16
// bytes), where gonet's wants them in the socket's own.
type UDPConn struct {
	*gonetUDPConn
	sk     *socket
	closed atomic.Bool
}

func newUDPConn(sk *socket) *UDPConn {
	return &UDPConn{gonetUDPConn: gonet.NewUDPConn(sk.wq, sk.ep), sk: sk}
}

func (c *UDPConn) Read(b []byte) (int, error) {
	n, err := c.gonetUDPConn.Read(b)
	return n, c.fix(err, "read")
}

func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.gonetUDPConn.ReadFrom(b)
	return n, addr, c.fix(err, "recvfrom")
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

// Close closes the socket; a second Close returns net.ErrClosed.
func (c *UDPConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", nil, net.ErrClosed)
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
