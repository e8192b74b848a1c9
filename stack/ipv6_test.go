package stack

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// linkLocal is the address a NIC with mac configures by itself (EUI-64).
func linkLocal(mac net.HardwareAddr) netip.Addr {
	return addrFromTCPIP(header.LinkLocalAddr(tcpip.LinkAddress(mac)))
}

// TestIPv6LinkLocal connects two stacks that have no configuration at
// all, over their link-local addresses, with and without a zone.
func TestIPv6LinkLocal(t *testing.T) {
	a, b := pairWith(t, NICConfig{}, NICConfig{})
	llA, llB := linkLocal(macA), linkLocal(macB)
	waitAddr(t, a, llA)
	waitAddr(t, b, llB)
	if !hasPrefix(a, netip.PrefixFrom(llA, 64)) {
		t.Errorf("interfaces %+v lack %v/64", a.Interfaces(), llA)
	}
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp6", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	port := l.Addr().(*net.TCPAddr).Port
	for _, dst := range []netip.Addr{llB.WithZone("a"), llB} {
		c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(dst, port))
		if err != nil {
			t.Fatalf("dial %v: %v", dst, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, "hello")
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Errorf("echo over %v: %q, %v", dst, buf, err)
		}
		if la := c.LocalAddr().(*net.TCPAddr); !la.IP.Equal(llA.AsSlice()) {
			t.Errorf("local address %v, want %v", la, llA)
		}
		c.Close()
	}
	if _, err := a.Dial(ctxTimeout(t, time.Second), "tcp", hostPort(llB.WithZone("nope"), port)); err == nil {
		t.Error("dial with an unknown zone succeeded")
	}
}

// TestSLAAC plays an IPv6 router on the far end of the pipe: its router
// advertisements must give the stack a global address (SLAAC), a default
// route through the router, and the DNS server they announce (RDNSS).
func TestSLAAC(t *testing.T) {
	devA, router := netdevtest.Pipe(macA, macB, 1500)
	a := newStack(t, Config{NICs: []NICConfig{{Device: devA}}})
	prefix := netip.MustParsePrefix("fd00:1::/64")
	dns := netip.MustParseAddr("fd00:1::53")
	routerLL := linkLocal(macB)
	ra := raFrame(macB, routerLL, prefix, dns)

	done := make(chan struct{})
	defer close(done)
	go func() { // drain what the stack sends: solicitations, DAD probes
		frames, sizes := [][]byte{make([]byte, 1514)}, []int{0}
		for {
			if _, err := router.Read(frames, sizes); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			router.Write([][]byte{ra})
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()

	want := netip.AddrFrom16(func() [16]byte {
		b := prefix.Addr().As16()
		ll := linkLocal(macA).As16()
		copy(b[8:], ll[8:])
		return b
	}())
	waitAddr(t, a, want)
	deadline := time.Now().Add(5 * time.Second)
	for {
		route := slices.ContainsFunc(a.gv.GetRouteTable(), func(r tcpip.Route) bool {
			return r.Destination == header.IPv6EmptySubnet && addrFromTCPIP(r.Gateway) == routerLL
		})
		gotDNS := slices.Contains(a.DNSServers(), dns)
		if route && gotDNS {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("default route via %v: %v; DNS servers %v, want %v", routerLL, route, a.DNSServers(), dns)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !hasPrefix(a, netip.PrefixFrom(want, 64)) {
		t.Errorf("interfaces %+v lack %v/64", a.Interfaces(), want)
	}
}

// raFrame is a router advertisement from a router at mac and ll, for
// prefix (on-link, autonomous) and with dns as a recursive DNS server.
func raFrame(mac net.HardwareAddr, ll netip.Addr, prefix netip.Prefix, dns netip.Addr) []byte {
	icmp := []byte{
		134, 0, 0, 0, // router advertisement, checksum
		64, 0, 0x07, 0x08, // hop limit, flags, router lifetime 1800 s
		0, 0, 0, 0, 0, 0, 0, 0, // reachable time, retransmission timer
	}
	icmp = append(icmp, 1, 1) // source link-layer address
	icmp = append(icmp, mac...)
	icmp = append(icmp, 3, 4, byte(prefix.Bits()), 0xc0, // prefix information: on-link, autonomous
		0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0) // valid 3600 s, preferred 1800 s
	icmp = append(icmp, prefix.Addr().AsSlice()...)
	icmp = append(icmp, 25, 3, 0, 0, 0, 0, 0x0e, 0x10) // RDNSS, lifetime 3600 s
	icmp = append(icmp, dns.AsSlice()...)
	src := addrToTCPIP(ll)
	h := header.ICMPv6(icmp)
	h.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: h, Src: src, Dst: header.IPv6AllNodesMulticastAddress}))

	frame := make([]byte, netdev.EthernetHeaderLen+header.IPv6MinimumSize, netdev.EthernetHeaderLen+header.IPv6MinimumSize+len(icmp))
	header.Ethernet(frame).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(mac),
		DstAddr: header.EthernetAddressFromMulticastIPv6Address(header.IPv6AllNodesMulticastAddress),
		Type:    header.IPv6ProtocolNumber,
	})
	header.IPv6(frame[netdev.EthernetHeaderLen:]).Encode(&header.IPv6Fields{
		PayloadLength:     uint16(len(icmp)),
		TransportProtocol: header.ICMPv6ProtocolNumber,
		HopLimit:          header.NDPHopLimit,
		SrcAddr:           src,
		DstAddr:           header.IPv6AllNodesMulticastAddress,
	})
	return append(frame, icmp...)
}
