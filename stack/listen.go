package stack

import (
	"context"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// listenBacklog is Linux's default somaxconn, as gonet's.
const listenBacklog = 4096

// Listen announces on the stack, as net.Listen does: network is "tcp",
// "tcp4" or "tcp6"; an empty or unspecified host listens on every address
// (of both families, for "tcp").
func (s *Stack) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	sk, la, err := s.bind(ctx, "listen", network, address, "tcp")
	if err != nil {
		return nil, err
	}
	if err := sk.ep.Listen(listenBacklog); err != nil {
		sk.ep.Close()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: la, Err: sysErr("listen", err)}
	}
	return newTCPListener(s, sk), nil
}

// ListenPacket announces on the stack, as net.ListenPacket does: network
// is "udp", "udp4" or "udp6". A socket that receives IPv4 has the UDP fast
// path (see the package documentation) unless Config.DisableUDPFastPath.
func (s *Stack) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	sk, _, err := s.bind(ctx, "listen", network, address, "udp")
	if err != nil {
		return nil, err
	}
	c := newUDPConn(sk)
	if s.fast != nil {
		c.fast = s.fast.register(sk)
	}
	return c, nil
}

// bind makes an endpoint of transport and binds it to address.
func (s *Stack) bind(ctx context.Context, op, network, address, want string) (*socket, net.Addr, error) {
	fail := func(la net.Addr, err error) (*socket, net.Addr, error) {
		return nil, nil, &net.OpError{Op: op, Net: network, Addr: la, Err: err}
	}
	transport, f, err := parseNetwork(network)
	if err != nil || transport != want {
		return fail(nil, net.UnknownNetworkError(network))
	}
	if s.closed() {
		return fail(nil, errClosed)
	}
	host, port, err := splitHostPort(address)
	if err != nil {
		return fail(nil, err)
	}
	a, err := s.listenAddr(ctx, f, host)
	if err != nil {
		return fail(nil, err)
	}
	la := sockAddr(transport, a, port)
	if !f.allows(a) {
		return fail(la, errUnsuitable(network, address))
	}
	fa, proto, err := s.fullAddr(a, port)
	if err != nil {
		return fail(la, err)
	}
	dualStack := false
	if a.IsUnspecified() {
		// Every address: in gVisor, no address at all.
		fa.Addr = tcpip.Address{}
		switch f {
		case 0:
			proto, dualStack = ipv6.ProtocolNumber, true
		case 4:
			proto = ipv4.ProtocolNumber
		case 6:
			proto = ipv6.ProtocolNumber
		}
	}
	tp := tcp.ProtocolNumber
	if transport == "udp" {
		tp = udp.ProtocolNumber
	}
	var wq waiter.Queue
	ep, terr := s.gv.NewEndpoint(tp, proto, &wq)
	if terr != nil {
		return fail(la, sysErr("socket", terr))
	}
	if proto == ipv6.ProtocolNumber {
		ep.SocketOptions().SetV6Only(!dualStack && a.IsUnspecified())
	}
	if transport == "tcp" {
		ep.SocketOptions().SetReuseAddress(true) // as Go's net does for listeners
	}
	if terr := ep.Bind(fa); terr != nil {
		ep.Close()
		return fail(la, sysErr("bind", terr))
	}
	return &socket{ep: ep, wq: &wq, proto: proto, network: network}, la, nil
}

// socket is a gVisor endpoint with what the adapters need to know of it.
type socket struct {
	ep      tcpip.Endpoint
	wq      *waiter.Queue
	proto   tcpip.NetworkProtocolNumber
	network string // as given to Listen or Dial: "tcp", "udp6"...
}

// localAddr is an endpoint's bound address, for Addr and LocalAddr; gVisor
// has none for an endpoint bound to every address.
func localAddr(transport string, ep tcpip.Endpoint, proto tcpip.NetworkProtocolNumber) net.Addr {
	fa, err := ep.GetLocalAddress()
	if err != nil {
		return nil
	}
	a := addrFromTCPIP(fa.Addr)
	if !a.IsValid() {
		a = netip.IPv6Unspecified()
		if proto == ipv4.ProtocolNumber {
			a = netip.IPv4Unspecified()
		}
	}
	return sockAddr(transport, a, fa.Port)
}
