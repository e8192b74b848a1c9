package usernet

import (
	"fmt"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// nicID is the gateway's only NIC.
const nicID tcpip.NICID = 1

// newStack builds the gateway's netstack on ep: the gateway and DNS
// addresses of both families, and a route to the link. With promiscuous,
// it also takes packets for any address and may answer from any address,
// which is how the outbound forwarders see the guest's connections to the
// world (see admit for what that would otherwise answer). A guestMAC pins
// the guest's addresses to it.
func newStack(ep stack.LinkEndpoint, promiscuous bool, guestMAC net.HardwareAddr) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{
				// The link's addresses are fixed: nobody to detect.
				DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 0},
			}),
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	fail := func(what string, err tcpip.Error) (*stack.Stack, error) {
		s.Destroy()
		return nil, fmt.Errorf("usernet: %s: %s", what, err)
	}

	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return fail("enable SACK", err)
	}
	if err := s.CreateNICWithOptions(nicID, ep, stack.NICOptions{Name: "usernet"}); err != nil {
		return fail("create NIC", err)
	}
	for _, a := range []struct {
		addr netip.Addr
		net  netip.Prefix
		peb  stack.PrimaryEndpointBehavior
	}{
		// The gateway is the source of what the monitor sends; DNS only
		// answers what is sent to it.
		{Gateway4, Subnet4, stack.CanBePrimaryEndpoint},
		{DNS4, Subnet4, stack.NeverPrimaryEndpoint},
		{Gateway6, Subnet6, stack.CanBePrimaryEndpoint},
		{DNS6, Subnet6, stack.NeverPrimaryEndpoint},
	} {
		pa := tcpip.ProtocolAddress{
			Protocol:          protocolOf(a.addr),
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpipAddr(a.addr), PrefixLen: a.net.Bits()},
		}
		if err := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{PEB: a.peb}); err != nil {
			return fail("add address "+a.addr.String(), err)
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: subnet(Subnet4), NIC: nicID},
		{Destination: subnet(Subnet6), NIC: nicID},
	})
	if guestMAC != nil {
		for _, a := range []netip.Addr{Guest4, Guest6} {
			if err := s.AddStaticNeighbor(nicID, protocolOf(a), tcpipAddr(a), tcpip.LinkAddress(guestMAC)); err != nil {
				return fail("pin guest MAC", err)
			}
		}
	}
	if promiscuous {
		if err := s.SetPromiscuousMode(nicID, true); err != nil {
			return fail("promiscuous mode", err)
		}
		if err := s.SetSpoofing(nicID, true); err != nil {
			return fail("spoofing", err)
		}
	}
	return s, nil
}

func protocolOf(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

// netipAddr converts back; a 4-in-6 address stays IPv6, as netstack has it.
func netipAddr(a tcpip.Address) netip.Addr {
	addr, _ := netip.AddrFromSlice(a.AsSlice())
	return addr
}

func subnet(p netip.Prefix) tcpip.Subnet {
	return tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()}.Subnet()
}
