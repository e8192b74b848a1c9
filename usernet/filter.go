package usernet

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// admit reports whether a frame from the guest may reach the gateway's
// netstack. The link has three hosts, the guest, Gateway and DNS, but a
// netstack that accepts every destination (as Config.Outbound needs, to
// take the guest's connections to anywhere) would also answer ARP and
// neighbor solicitations for every address, the guest's own included, and
// IPv6 echo requests to hosts it cannot reach. (IPv4 netstack leaves echo
// requests to such addresses unanswered itself; admit drops them all the
// same.) Those requests are dropped here unless they are for the monitor's
// own addresses, so the link behaves as if the gateway were one host: a
// ping to the outside times out, as it does behind slirp. admit reads only
// the bytes it bounds-checks; anything else malformed is netstack's to
// reject.
func admit(frame []byte) bool {
	eth := header.Ethernet(frame[:header.EthernetMinimumSize])
	p := frame[header.EthernetMinimumSize:]
	switch eth.Type() {
	case header.ARPProtocolNumber:
		arp := header.ARP(p)
		if !arp.IsValid() {
			return false
		}
		if arp.Op() == header.ARPRequest {
			return isGateway(netip.AddrFrom4([4]byte(arp.ProtocolAddressTarget())))
		}
	case header.IPv4ProtocolNumber:
		if len(p) < header.IPv4MinimumSize {
			return false
		}
		ihl := int(p[0]&0xf) * 4
		if len(p) <= ihl || header.IPv4(p).Protocol() != uint8(header.ICMPv4ProtocolNumber) {
			return true
		}
		if header.ICMPv4Type(p[ihl]) == header.ICMPv4Echo {
			return isGateway(netip.AddrFrom4([4]byte(p[16:20])))
		}
	case header.IPv6ProtocolNumber:
		if len(p) <= header.IPv6MinimumSize || header.IPv6(p).NextHeader() != uint8(header.ICMPv6ProtocolNumber) {
			return true
		}
		icmp := p[header.IPv6MinimumSize:]
		switch header.ICMPv6Type(icmp[0]) {
		case header.ICMPv6EchoRequest:
			return isGateway(netip.AddrFrom16([16]byte(p[24:40])))
		case header.ICMPv6NeighborSolicit:
			if len(icmp) < header.ICMPv6NeighborSolicitMinimumSize {
				return false
			}
			target := icmp[header.ICMPv6HeaderSize+4 : header.ICMPv6HeaderSize+20]
			return isGateway(netip.AddrFrom16([16]byte(target)))
		}
	}
	return true
}
