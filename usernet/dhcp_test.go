package usernet

import (
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestDHCP runs a client's DISCOVER, OFFER, REQUEST, ACK exchange on the
// wire, as an image with no address would.
func TestDHCP(t *testing.T) {
	_, r := startRaw(t, Config{})
	client := netip.AddrPortFrom(netip.IPv4Unspecified(), dhcpClientPort)
	server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dhcpServerPort)

	exchange := func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		t.Helper()
		r.send(t, udpFrame(tcpip.LinkAddress(GuestMAC), header.EthernetBroadcastAddress, client, server, req.ToBytes()))
		frame := r.recv(t, func(f []byte) bool {
			_, u, ok := udpOf(f)
			return ok && u.DestinationPort() == dhcpClientPort
		})
		ip, u, _ := udpOf(frame)
		if src, dst := ip.SourceAddress(), ip.DestinationAddress(); src != tcpipAddr(Gateway4) || dst != header.IPv4Broadcast {
			t.Errorf("reply from %v to %v, want from %v to the broadcast address", src, dst, Gateway4)
		}
		if got := header.Ethernet(frame).DestinationAddress(); got != header.EthernetBroadcastAddress {
			t.Errorf("reply to MAC %v, want broadcast", got)
		}
		reply, err := dhcpv4.FromBytes(u.Payload())
		if err != nil {
			t.Fatalf("reply: %v", err)
		}
		if reply.TransactionID != req.TransactionID {
			t.Errorf("reply xid %v, want %v", reply.TransactionID, req.TransactionID)
		}
		return reply
	}
	check := func(m *dhcpv4.DHCPv4, typ dhcpv4.MessageType) {
		t.Helper()
		if m.MessageType() != typ {
			t.Fatalf("got %v, want %v:\n%s", m.MessageType(), typ, m.Summary())
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"address", m.YourIPAddr.String(), Guest4.String()},
			{"router", net.IP(m.Router()[0]).String(), Gateway4.String()},
			{"DNS", net.IP(m.DNS()[0]).String(), DNS4.String()},
			{"server", m.ServerIdentifier().String(), Gateway4.String()},
			{"netmask", net.IP(m.SubnetMask()).String(), "255.255.255.0"},
			{"lease", m.IPAddressLeaseTime(0), LeaseTime},
		} {
			if c.got != c.want {
				t.Errorf("%v: %s %v, want %v", typ, c.what, c.got, c.want)
			}
		}
	}

	discover, err := dhcpv4.NewDiscovery(GuestMAC)
	if err != nil {
		t.Fatal(err)
	}
	offer := exchange(discover)
	check(offer, dhcpv4.MessageTypeOffer)
	req, err := dhcpv4.NewRequestFromOffer(offer)
	if err != nil {
		t.Fatal(err)
	}
	check(exchange(req), dhcpv4.MessageTypeAck)
}

func TestDHCPReply(t *testing.T) {
	gw, guest := net.IP(Gateway4.AsSlice()), net.IP(Guest4.AsSlice())
	other := net.IPv4(10, 0, 2, 16)
	msg := func(typ dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithMessageType(typ), dhcpv4.WithHwAddr(GuestMAC)}, mods...)...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tt := range []struct {
		name    string
		req     *dhcpv4.DHCPv4
		mtu     int
		want    dhcpv4.MessageType // 0: no reply
		wantYI  net.IP
		wantMTU uint16
	}{
		{"discover", msg(dhcpv4.MessageTypeDiscover), DefaultMTU, dhcpv4.MessageTypeOffer, guest, 0},
		{"discover with a larger MTU", msg(dhcpv4.MessageTypeDiscover), 9000, dhcpv4.MessageTypeOffer, guest, 9000},
		{"request", msg(dhcpv4.MessageTypeRequest, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(guest)), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(gw))), DefaultMTU, dhcpv4.MessageTypeAck, guest, 0},
		{"renew", msg(dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(guest)), DefaultMTU, dhcpv4.MessageTypeAck, guest, 0},
		{"request for another address", msg(dhcpv4.MessageTypeRequest, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(other))), DefaultMTU, dhcpv4.MessageTypeNak, net.IPv4zero, 0},
		{"request to another server", msg(dhcpv4.MessageTypeRequest, dhcpv4.WithOption(dhcpv4.OptServerIdentifier(other))), DefaultMTU, 0, nil, 0},
		{"inform", msg(dhcpv4.MessageTypeInform, dhcpv4.WithClientIP(guest)), DefaultMTU, dhcpv4.MessageTypeAck, net.IPv4zero, 0},
		{"release", msg(dhcpv4.MessageTypeRelease), DefaultMTU, 0, nil, 0},
		{"decline", msg(dhcpv4.MessageTypeDecline), DefaultMTU, 0, nil, 0},
		{"a reply", msg(dhcpv4.MessageTypeOffer, func(d *dhcpv4.DHCPv4) { d.OpCode = dhcpv4.OpcodeBootReply }), DefaultMTU, 0, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := dhcpReply(tt.req, tt.mtu)
			if tt.want == 0 {
				if got != nil {
					t.Fatalf("reply %v, want none", got.MessageType())
				}
				return
			}
			if got == nil {
				t.Fatalf("no reply, want %v", tt.want)
			}
			if got.MessageType() != tt.want || !got.YourIPAddr.Equal(tt.wantYI) {
				t.Errorf("reply %v for %v, want %v for %v", got.MessageType(), got.YourIPAddr, tt.want, tt.wantYI)
			}
			var mtu dhcpv4.Uint16
			if b := got.GetOneOption(dhcpv4.OptionInterfaceMTU); b != nil {
				if err := mtu.FromBytes(b); err != nil {
					t.Fatal(err)
				}
			}
			if uint16(mtu) != tt.wantMTU {
				t.Errorf("MTU option %d, want %d", mtu, tt.wantMTU)
			}
		})
	}
}
