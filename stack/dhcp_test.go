package stack

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// testDHCPServer is a DHCP server on a Stack: insomniacslk's server4 with
// a handler that leases addresses from .100 up for a short time.
type testDHCPServer struct {
	ip    netip.Prefix // the server's, which is also the router and DNS server
	lease time.Duration

	mu       sync.Mutex
	leases   map[string]netip.Addr
	renewals atomic.Int32
	srv      *server4.Server
}

func (d *testDHCPServer) start(t *testing.T, s *Stack) {
	pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":67")
	if err != nil {
		t.Fatal(err)
	}
	// What a DHCP server sets: broadcasts, out of its one interface.
	opts := pc.(*UDPConn).sk.ep.SocketOptions()
	opts.SetBroadcast(true)
	opts.SetBindToDevice(int32(s.nics[0].id))
	d.srv, err = server4.NewServer("", nil, d.handle, server4.WithConn(pc))
	if err != nil {
		t.Fatal(err)
	}
	go d.srv.Serve()
	t.Cleanup(d.stop)
}

func (d *testDHCPServer) stop() { d.srv.Close() }

func (d *testDHCPServer) handle(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
	d.mu.Lock()
	if d.leases == nil {
		d.leases = make(map[string]netip.Addr)
	}
	ip, ok := d.leases[m.ClientHWAddr.String()]
	if !ok {
		ip = d.ip.Masked().Addr()
		for range 100 + len(d.leases) {
			ip = ip.Next()
		}
		d.leases[m.ClientHWAddr.String()] = ip
	}
	d.mu.Unlock()
	var typ dhcpv4.MessageType
	switch m.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest:
		typ = dhcpv4.MessageTypeAck
		if !m.ClientIPAddr.IsUnspecified() {
			d.renewals.Add(1)
		}
	default:
		return
	}
	srv := net.IP(d.ip.Addr().AsSlice())
	reply, err := dhcpv4.NewReplyFromRequest(m,
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithYourIP(ip.AsSlice()),
		dhcpv4.WithServerIP(srv),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srv)),
		dhcpv4.WithNetmask(net.CIDRMask(d.ip.Bits(), 32)),
		dhcpv4.WithOption(dhcpv4.OptRouter(srv)),
		dhcpv4.WithOption(dhcpv4.OptDNS(srv)),
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(d.lease)),
	)
	if err == nil {
		conn.WriteTo(reply.ToBytes(), peer)
	}
}

// TestDHCP gets a stack its address from a DHCP server on the other
// stack, checks what the lease configured, that the lease is renewed at
// T1, and that it is dropped when the server is gone past its expiry.
func TestDHCP(t *testing.T) {
	srvIP := netip.MustParsePrefix("10.0.9.1/24")
	a, b := pairWith(t, NICConfig{DHCP: true}, NICConfig{IPv4: srvIP})
	d := &testDHCPServer{ip: srvIP, lease: 4 * time.Second}
	d.start(t, b)

	if err := a.WaitDHCP(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	leased := netip.MustParsePrefix("10.0.9.100/24")
	if !hasPrefix(a, leased) {
		t.Fatalf("interfaces %+v, want %v", a.Interfaces(), leased)
	}
	if !slices.Contains(a.DNSServers(), srvIP.Addr()) {
		t.Errorf("DNS servers %v, want %v", a.DNSServers(), srvIP.Addr())
	}
	if !slices.ContainsFunc(a.gv.GetRouteTable(), func(r tcpip.Route) bool {
		return r.Destination == header.IPv4EmptySubnet && addrFromTCPIP(r.Gateway) == srvIP.Addr()
	}) {
		t.Errorf("no default route via %v in %v", srvIP.Addr(), a.gv.GetRouteTable())
	}
	if hasPrefix(a, netip.MustParsePrefix("0.0.0.0/0")) {
		t.Error("0.0.0.0 still assigned after the lease")
	}

	// The leased address works.
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(srvIP.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != leased.Addr().String() {
		t.Errorf("connection from %v, want %v", got, leased.Addr())
	}
	c.Close()

	// Renewed at T1 (2 s), which keeps the address.
	waitFor(t, 5*time.Second, "a renewal", func() bool { return d.renewals.Load() > 0 })
	if !hasPrefix(a, leased) {
		t.Errorf("after renewal, interfaces %+v, want %v", a.Interfaces(), leased)
	}

	// Without a server, the lease runs out: the address goes.
	d.stop()
	waitFor(t, 8*time.Second, "the lease to expire", func() bool { return !hasPrefix(a, leased) })
	if slices.Contains(a.DNSServers(), srvIP.Addr()) {
		t.Errorf("DNS servers %v after expiry", a.DNSServers())
	}
}

// TestDHCPTimeout checks WaitDHCP's error when no server answers.
func TestDHCPTimeout(t *testing.T) {
	a, _ := pairWith(t, NICConfig{DHCP: true}, NICConfig{IPv4: ip4B})
	err := a.WaitDHCP(ctxTimeout(t, 300*time.Millisecond))
	de, ok := err.(*DHCPError)
	if !ok || !slices.Equal(de.NICs, []string{"a"}) {
		t.Fatalf("WaitDHCP: %v, want a *DHCPError naming NIC a", err)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
