package stack

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Interface describes one of the stack's network interfaces.
type Interface struct {
	Name  string
	MAC   net.HardwareAddr // none for loopback
	MTU   int
	Addrs []netip.Prefix // IPv4 first; link-local and tentative (DAD) IPv6 included
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Interfaces returns the stack's interfaces, in the order of Config.NICs,
// loopback last.
func (s *Stack) Interfaces() []Interface {
	info := s.gv.NICInfo()
	all := s.gv.AllAddresses()
	var out []Interface
	for id := tcpip.NICID(1); ; id++ {
		ni, ok := info[id]
		if !ok {
			return out
		}
		ifc := Interface{Name: ni.Name, MAC: net.HardwareAddr(ni.LinkAddress), MTU: int(ni.MTU)}
		for _, pa := range all[id] {
			a := addrFromTCPIP(pa.AddressWithPrefix.Address)
			if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a == limitedBroadcast {
				continue // 0.0.0.0 while DHCP runs; 255.255.255.255, for gVisor's broadcasts
			}
			ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(a, pa.AddressWithPrefix.PrefixLen))
		}
		slices.SortFunc(ifc.Addrs, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		out = append(out, ifc)
	}
}

// addAddress assigns p to n and, with onLink, routes p's network to n.
func (s *Stack) addAddress(n *nic, p netip.Prefix, onLink bool) error {
	pa := tcpip.ProtocolAddress{
		Protocol:          protoOf(p.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrToTCPIP(p.Addr()), PrefixLen: p.Bits()},
	}
	if err := s.gv.AddProtocolAddress(n.id, pa, gvstack.AddressProperties{}); err != nil {
		return fmt.Errorf("stack: adding %s to %s: %s", p, n.name, err)
	}
	if onLink {
		s.gv.AddRoute(tcpip.Route{Destination: prefixToSubnet(p.Masked()), NIC: n.id})
	}
	n.link.setFastAddr(p, true)
	return nil
}

// removeAddress takes p off n, with the route of its network.
func (s *Stack) removeAddress(n *nic, p netip.Prefix) {
	n.link.setFastAddr(p, false)
	if err := s.gv.RemoveAddress(n.id, addrToTCPIP(p.Addr())); err != nil {
		s.log.Debug("removing address", "nic", n.name, "address", p, "err", err)
	}
	dst := prefixToSubnet(p.Masked())
	s.gv.RemoveRoutes(func(r tcpip.Route) bool {
		return r.NIC == n.id && r.Destination == dst && r.Gateway.BitLen() == 0
	})
}

// setGateway makes gw n's default route for gw's family; a zero gw does
// nothing.
func (s *Stack) setGateway(n *nic, gw netip.Addr) {
	if !gw.IsValid() {
		return
	}
	s.gv.AddRoute(tcpip.Route{Destination: defaultSubnet(gw), Gateway: addrToTCPIP(gw), NIC: n.id})
}

// clearGateway removes n's default route through gw.
func (s *Stack) clearGateway(n *nic, gw netip.Addr) {
	if !gw.IsValid() {
		return
	}
	dst, via := defaultSubnet(gw), addrToTCPIP(gw)
	s.gv.RemoveRoutes(func(r tcpip.Route) bool {
		return r.NIC == n.id && r.Destination == dst && r.Gateway == via
	})
}

func defaultSubnet(a netip.Addr) tcpip.Subnet {
	if a.Is4() {
		return header.IPv4EmptySubnet
	}
	return header.IPv6EmptySubnet
}

func protoOf(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Unmap().Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// addrToTCPIP converts a, unmapping IPv4-mapped IPv6 addresses.
func addrToTCPIP(a netip.Addr) tcpip.Address {
	a = a.Unmap()
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

func addrFromTCPIP(a tcpip.Address) netip.Addr {
	switch a.BitLen() {
	case 32:
		return netip.AddrFrom4(a.As4())
	case 128:
		return netip.AddrFrom16(a.As16())
	}
	return netip.Addr{}
}

func prefixToSubnet(p netip.Prefix) tcpip.Subnet {
	return tcpip.AddressWithPrefix{Address: addrToTCPIP(p.Addr()), PrefixLen: p.Bits()}.Subnet()
}

func subnetToPrefix(s tcpip.Subnet) netip.Prefix {
	return netip.PrefixFrom(addrFromTCPIP(s.ID()), s.Prefix())
}
