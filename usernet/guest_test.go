package usernet

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// guest is what the image would be: a netstack of its own on the other end
// of the link, configured as the monitor tells it to be (Guest4, routes
// via Gateway4). Its NIC is this package's link, without the gateway's
// filter. (gVisor's fdbased endpoint would be independent code, but its
// readers do not end reliably when the peer hangs up, and Stack.Destroy
// can deadlock with a reader still delivering.)
type guest struct {
	s    *stack.Stack
	link *link
}

const guestNIC tcpip.NICID = 1

func newGuest(t testing.TB, f *os.File, mtu int) *guest {
	t.Helper()
	return newGuestSeeing(t, f, mtu, func([]byte) bool { return true })
}

// newGuestSeeing is newGuest whose link shows every frame it receives to
// see first (which must return true).
func newGuestSeeing(t testing.TB, f *os.File, mtu int, see func([]byte) bool) *guest {
	t.Helper()
	l, err := newLink(f, mtu, GuestMAC, see, discardLog())
	if err != nil {
		t.Fatalf("guest link: %v", err)
	}
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{DADConfigs: stack.DADConfigurations{}})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
	})
	g := &guest{s: s, link: l}
	if err := s.CreateNIC(guestNIC, l); err != nil {
		g.close()
		t.Fatalf("guest NIC: %v", err)
	}
	l.start()
	for _, p := range []netip.Prefix{GuestPrefix4, GuestPrefix6} {
		pa := tcpip.ProtocolAddress{
			Protocol:          protocolOf(p.Addr()),
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()},
		}
		if err := s.AddProtocolAddress(guestNIC, pa, stack.AddressProperties{}); err != nil {
			g.close()
			t.Fatalf("guest address: %v", err)
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: subnet(Subnet4), NIC: guestNIC},
		{Destination: subnet(Subnet6), NIC: guestNIC},
		{Destination: subnet(netip.MustParsePrefix("0.0.0.0/0")), Gateway: tcpipAddr(Gateway4), NIC: guestNIC},
		{Destination: subnet(netip.MustParsePrefix("::/0")), Gateway: tcpipAddr(Gateway6), NIC: guestNIC},
	})
	return g
}

// close stops the guest's link, then its stack.
func (g *guest) close() {
	g.link.stop()
	g.s.Destroy()
}

// fd is the guest's end of the link, to write frames on behind its back.
func (g *guest) fd() int {
	var fd int
	g.link.rc.Control(func(d uintptr) { fd = int(d) })
	return fd
}

func (g *guest) listenTCP(t testing.TB, port uint16) net.Listener {
	t.Helper()
	ln, err := gonet.ListenTCP(g.s, tcpip.FullAddress{NIC: guestNIC, Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("guest listen :%d: %v", port, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func (g *guest) dialTCP(ctx context.Context, to netip.AddrPort) (*gonet.TCPConn, error) {
	return gonet.DialContextTCP(ctx, g.s, tcpip.FullAddress{NIC: guestNIC, Addr: tcpipAddr(to.Addr()), Port: to.Port()}, protocolOf(to.Addr()))
}

// listenUDP binds a guest UDP socket to port.
func (g *guest) listenUDP(t testing.TB, port uint16) *gonet.UDPConn {
	t.Helper()
	c, err := gonet.DialUDP(g.s, &tcpip.FullAddress{NIC: guestNIC, Port: port}, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("guest UDP :%d: %v", port, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialUDP connects a guest UDP socket to to.
func (g *guest) dialUDP(t testing.TB, to netip.AddrPort) *gonet.UDPConn {
	t.Helper()
	c, err := gonet.DialUDP(g.s, nil, &tcpip.FullAddress{NIC: guestNIC, Addr: tcpipAddr(to.Addr()), Port: to.Port()}, protocolOf(to.Addr()))
	if err != nil {
		t.Fatalf("guest UDP to %v: %v", to, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testLog logs into the test's output, shown when it fails or with -v.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startPair starts a network with cfg on a fresh socket pair and a guest
// on the other end; both are closed when the test ends.
func startPair(t testing.TB, cfg Config) (*Network, *guest) {
	t.Helper()
	mon, gst, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log == nil {
		cfg.Log = testLog(t)
	}
	n, err := Start(mon, cfg)
	if err != nil {
		gst.Close()
		t.Fatalf("Start: %v", err)
	}
	g := newGuest(t, gst, n.cfg.MTU)
	t.Cleanup(func() {
		n.Close()
		g.close()
	})
	return n, g
}

// hostAddr is the host address of n's i-th forward, for dialing: an
// unspecified address becomes loopback.
func hostAddr(n *Network, i int) string {
	a := n.Forwards()[i].HostAddr
	if a.Addr().IsUnspecified() {
		a = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), a.Port())
	}
	return a.String()
}

func tcpFwd(host string, guestPort uint16) Forward {
	return Forward{Proto: TCP, HostAddr: netip.MustParseAddrPort(host), GuestPort: guestPort}
}

func udpFwd(host string, guestPort uint16) Forward {
	return Forward{Proto: UDP, HostAddr: netip.MustParseAddrPort(host), GuestPort: guestPort}
}

// testContext is a context that ends with the test, or after d.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
