package stack

import (
	"context"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Dial connects on the stack, as net.Dialer.DialContext does: network is
// "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6"; the host is an address
// (with a zone naming the NIC for link-local IPv6), "localhost", or a name
// resolved through the stack's DNS servers. Each address of a name is
// tried in turn until one connects or ctx is done.
func (s *Stack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	transport, f, err := parseNetwork(network)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if s.closed() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errClosed}
	}
	host, port, err := splitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	addrs, err := s.resolve(ctx, host, f)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var first error
	for _, a := range addrs {
		c, err := s.dialAddr(ctx, network, transport, a, port)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// dialAddr connects to one address.
func (s *Stack) dialAddr(ctx context.Context, network, transport string, a netip.Addr, port uint16) (net.Conn, error) {
	fa, proto, err := s.fullAddr(a, port)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: sockAddr(transport, a, port), Err: err}
	}
	return s.dialFull(ctx, network, transport, fa, proto)
}

// dialFull connects to an address in gVisor's terms.
func (s *Stack) dialFull(ctx context.Context, network, transport string, fa tcpip.FullAddress, proto tcpip.NetworkProtocolNumber) (net.Conn, error) {
	ra := sockAddr(transport, addrFromTCPIP(fa.Addr), fa.Port)
	fail := func(err error) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: ra, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(ctxErr(err))
	}
	tp := tcp.ProtocolNumber
	if transport == "udp" {
		tp = udp.ProtocolNumber
	}
	var wq waiter.Queue
	ep, terr := s.gv.NewEndpoint(tp, proto, &wq)
	if terr != nil {
		return fail(sysErr("socket", terr))
	}
	sk := &socket{ep: ep, wq: &wq, proto: proto, network: network}
	if fa.NIC != 0 {
		ep.SocketOptions().SetBindToDevice(int32(fa.NIC))
	}
	if transport == "udp" {
		if terr := ep.Connect(fa); terr != nil {
			ep.Close()
			return fail(sysErr("connect", terr))
		}
		return newUDPConn(sk), nil
	}

	// Connect returns at once; the handshake's end makes the endpoint
	// writable (or in error).
	entry, done := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventErr | waiter.EventHUp)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	terr = ep.Connect(fa)
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		select {
		case <-done:
			terr = ep.LastError()
		case <-ctx.Done():
			ep.Close()
			return fail(ctxErr(ctx.Err()))
		case <-s.ctx.Done():
			ep.Close()
			return fail(errClosed)
		}
	}
	if terr != nil {
		ep.Close()
		return fail(sysErr("connect", terr))
	}
	return newTCPConn(sk), nil
}
