package stack

import (
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// announce broadcasts two ARP announcements (RFC 5227 2.3) of a, an IPv4
// address n just took: neighbors update what they cached for a, which
// matters for a unikernel, whose MAC may change from one run to the next,
// and after a DHCP server's probe of a left a failed entry in its
// neighbor cache (dnsmasq's does), where a host would refuse connections
// to a for a while. gVisor's ARP sends none by itself.
func (s *Stack) announce(n *nic, a netip.Addr) {
	if !a.Is4() || n.link == nil {
		return
	}
	send := func() {
		if s.closed() {
			return
		}
		b := make([]byte, header.ARPSize)
		h := header.ARP(b)
		h.SetIPv4OverEthernet()
		h.SetOp(header.ARPRequest)
		copy(h.HardwareAddressSender(), n.cfg.Device.MAC())
		ip := a.As4()
		copy(h.ProtocolAddressSender(), ip[:])
		copy(h.ProtocolAddressTarget(), ip[:])
		if err := s.gv.WritePacketToRemote(n.id, header.EthernetBroadcastAddress, header.ARPProtocolNumber, buffer.MakeWithData(b)); err != nil {
			s.log.Debug("ARP announcement", "nic", n.name, "address", a, "err", err)
		}
	}
	send()
	time.AfterFunc(announceInterval, send)
}

// announceInterval is RFC 5227's ANNOUNCE_INTERVAL.
const announceInterval = 2 * time.Second
