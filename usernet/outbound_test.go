package usernet

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// TestOutboundTCP: the guest's connection to the gateway, IPv4 or IPv6,
// reaches a host listener on loopback, both ways, half-closes included.
func TestOutboundTCP(t *testing.T) {
	_, g := startPair(t, Config{Outbound: true})
	for _, tt := range []struct {
		listen string
		gw     netip.Addr
	}{
		{"127.0.0.1:0", Gateway4},
		{"[::1]:0", Gateway6},
	} {
		if tt.gw.Is6() && !hostHasIPv6Loopback() {
			t.Logf("no ::1 on this host, skipping %v", tt.gw)
			continue
		}
		ln, err := net.Listen("tcp", tt.listen)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			b, _ := io.ReadAll(c)
			c.Write(append([]byte("host got: "), b...))
		}()
		to := netip.AddrPortFrom(tt.gw, ln.Addr().(*net.TCPAddr).AddrPort().Port())
		c, err := g.dialTCP(testContext(t, 10*time.Second), to)
		if err != nil {
			t.Fatalf("guest dial %v: %v", to, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("hello"))
		c.CloseWrite()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "host got: hello" {
			t.Errorf("guest to %v got %q, %v", to, got, err)
		}
	}
}

func hostHasIPv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// TestOutboundTCPRefused: a host port nobody listens on is a refused
// connection in the guest, at once.
func TestOutboundTCPRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
	ln.Close()
	_, g := startPair(t, Config{Outbound: true})
	start := time.Now()
	c, err := g.dialTCP(testContext(t, 5*time.Second), netip.AddrPortFrom(Gateway4, port))
	if err == nil {
		c.Close()
		t.Fatal("guest dial succeeded, want refused")
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("guest dial: %v, want connection refused", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refused after %v, want promptly", d)
	}
}

// TestOutboundDisabled: without Outbound the gateway takes no connection.
func TestOutboundDisabled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, g := startPair(t, Config{})
	c, err := g.dialTCP(testContext(t, 5*time.Second), netip.AddrPortFrom(Gateway4, ln.Addr().(*net.TCPAddr).AddrPort().Port()))
	if err == nil {
		c.Close()
		t.Fatal("guest reached the host without Outbound")
	}
}

// udpEcho serves UDP echo on the host's loopback until the test ends.
func udpEcho(t *testing.T, prefix string) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte(prefix), buf[:m]...), from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TestOutboundUDP: datagrams to the gateway reach a host socket on
// loopback, and those to DNS4:53 the configured resolver.
func TestOutboundUDP(t *testing.T) {
	echo := udpEcho(t, "echo ")
	resolver := udpEcho(t, "resolver ")
	_, g := startPair(t, Config{Outbound: true, Resolvers: []netip.AddrPort{resolver}})
	for _, tt := range []struct {
		to   netip.AddrPort
		want string
	}{
		{netip.AddrPortFrom(Gateway4, echo.Port()), "echo "},
		{netip.AddrPortFrom(DNS4, 53), "resolver "},
	} {
		c := g.dialUDP(t, tt.to)
		got, err := udpRoundTrip(c, "query")
		if err != nil {
			t.Errorf("to %v: %v", tt.to, err)
		} else if got != tt.want+"query" {
			t.Errorf("to %v: got %q, want %q", tt.to, got, tt.want+"query")
		}
	}
}

func TestHostTarget(t *testing.T) {
	resolver := netip.MustParseAddrPort("192.0.2.53:53")
	n := &Network{cfg: Config{Resolvers: []netip.AddrPort{resolver}}}
	for _, tt := range []struct {
		dst  string
		want string // "" for refused
	}{
		{"10.0.2.2:8080", "127.0.0.1:8080"},
		{"[fd00::2]:8080", "[::1]:8080"},
		{"10.0.2.3:53", resolver.String()},
		{"[fd00::3]:53", resolver.String()},
		{"10.0.2.3:80", ""},
		{"10.0.2.15:80", ""},
		{"10.0.2.99:80", ""},
		{"10.0.2.255:80", ""},
		{"[fd00::99]:80", ""},
		{"255.255.255.255:80", ""},
		{"224.0.0.1:80", ""},
		{"127.0.0.1:80", ""},
		{"0.0.0.0:80", ""},
		{"169.254.169.254:80", ""},
		{"[fe80::1]:80", ""},
		{"192.0.2.1:443", "192.0.2.1:443"},
		{"10.1.2.3:443", "10.1.2.3:443"},
		{"[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"[::ffff:192.0.2.1]:443", "192.0.2.1:443"},
	} {
		got, ok := n.hostTarget(netip.MustParseAddrPort(tt.dst))
		if !ok && tt.want != "" || ok && got.String() != tt.want {
			t.Errorf("hostTarget(%s) = %v, %v; want %q", tt.dst, got, ok, tt.want)
		}
	}
}

// ping sends ICMP echo requests from the guest to dst and reports whether
// a reply came within wait.
func (g *guest) ping(t *testing.T, dst netip.Addr, wait time.Duration) bool {
	t.Helper()
	proto, netProto := icmp.ProtocolNumber4, ipv4.ProtocolNumber
	req := make([]byte, header.ICMPv4MinimumSize+4)
	header.ICMPv4(req).SetType(header.ICMPv4Echo)
	isReply := func(b []byte) bool { return header.ICMPv4(b).Type() == header.ICMPv4EchoReply }
	if dst.Is6() {
		proto, netProto = icmp.ProtocolNumber6, ipv6.ProtocolNumber
		req = make([]byte, header.ICMPv6EchoMinimumSize+4)
		header.ICMPv6(req).SetType(header.ICMPv6EchoRequest)
		isReply = func(b []byte) bool { return header.ICMPv6(b).Type() == header.ICMPv6EchoReply }
	}
	copy(req[len(req)-4:], "ping")

	var wq waiter.Queue
	ep, terr := g.s.NewEndpoint(proto, netProto, &wq)
	if terr != nil {
		t.Fatalf("ping endpoint: %v", terr)
	}
	defer ep.Close()
	we, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	deadline := time.After(wait)
	for {
		// The first try may wait for ARP: resend until the deadline.
		if _, terr := ep.Write(bytes.NewReader(req), tcpip.WriteOptions{To: &tcpip.FullAddress{NIC: guestNIC, Addr: tcpipAddr(dst)}}); terr != nil {
			t.Fatalf("ping write: %v", terr)
		}
		select {
		case <-ch:
			var b bytes.Buffer
			if _, terr := ep.Read(&b, tcpip.ReadOptions{}); terr == nil {
				return isReply(b.Bytes())
			}
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return false
		}
	}
}

// TestPing: the gateway and DNS addresses answer pings, IPv4 and IPv6; an
// address beyond them does not (the gateway cannot reach it), also with
// Outbound, when the gateway's netstack accepts packets for every address
// and, but for admit, would answer for all of them. (No ICMP leaves the
// monitor: the addresses are documentation ones, never reached.)
func TestPing(t *testing.T) {
	for _, outbound := range []bool{false, true} {
		_, g := startPair(t, Config{Outbound: outbound})
		for _, tt := range []struct {
			dst  netip.Addr
			want bool
		}{
			{Gateway4, true},
			{DNS4, true},
			{Gateway6, true},
			{DNS6, true},
			{netip.MustParseAddr("192.0.2.1"), false},
			{netip.MustParseAddr("2001:db8::1"), false},
		} {
			wait := 5 * time.Second
			if !tt.want {
				wait = 500 * time.Millisecond
			}
			if got := g.ping(t, tt.dst, wait); got != tt.want {
				t.Errorf("outbound %v: ping %v answered %v, want %v", outbound, tt.dst, got, tt.want)
			}
		}
	}
}

// TestARP: with Outbound, the gateway answers ARP for its own addresses
// only, not for the guest's or another host's, though its netstack would.
func TestARP(t *testing.T) {
	_, r := startRaw(t, Config{Outbound: true, Log: discardLog()})
	arpFor := func(target netip.Addr) []byte {
		b := make([]byte, header.EthernetMinimumSize+header.ARPSize)
		header.Ethernet(b).Encode(&header.EthernetFields{SrcAddr: tcpip.LinkAddress(GuestMAC), DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber})
		a := header.ARP(b[header.EthernetMinimumSize:])
		a.SetIPv4OverEthernet()
		a.SetOp(header.ARPRequest)
		copy(a.HardwareAddressSender(), GuestMAC)
		copy(a.ProtocolAddressSender(), Guest4.AsSlice())
		copy(a.ProtocolAddressTarget(), target.AsSlice())
		return b
	}
	// Requests for other addresses first: had they been answered, their
	// replies would come before the gateway's.
	for _, a := range []string{"10.0.2.15", "10.0.2.99", "192.0.2.1"} {
		r.send(t, arpFor(netip.MustParseAddr(a)))
	}
	r.send(t, arpFor(Gateway4))
	reply := r.recv(t, func(f []byte) bool {
		if header.Ethernet(f).Type() != header.ARPProtocolNumber {
			return false
		}
		return header.ARP(f[header.EthernetMinimumSize:]).Op() == header.ARPReply
	})
	a := header.ARP(reply[header.EthernetMinimumSize:])
	if got := netip.AddrFrom4([4]byte(a.ProtocolAddressSender())); got != Gateway4 {
		t.Errorf("first ARP reply is for %v, want only %v's", got, Gateway4)
	}
	if got := net.HardwareAddr(a.HardwareAddressSender()); got.String() != GatewayMAC.String() {
		t.Errorf("gateway MAC %v, want %v", got, GatewayMAC)
	}
}
