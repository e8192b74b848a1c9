package usernet

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// DHCP ports (RFC 2131).
const (
	dhcpServerPort = 67
	dhcpClientPort = 68
)

// LeaseTime is the DHCP lease: long, since the address never changes.
const LeaseTime = 24 * time.Hour

// startDHCP answers DHCPv4 on the link, so that an image that asks for its
// address gets the one the monitor would have told it: Guest4, with
// Gateway4 as router and DNS4 as resolver. There is one guest, so there is
// one address to lease, whatever the client's hardware address.
func (n *Network) startDHCP() error {
	var wq waiter.Queue
	ep, terr := n.stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return fmt.Errorf("usernet: DHCP endpoint: %s", terr)
	}
	// Clients without an address yet get broadcast answers.
	ep.SocketOptions().SetBroadcast(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: dhcpServerPort}); terr != nil {
		ep.Close()
		return fmt.Errorf("usernet: DHCP bind: %s", terr)
	}
	conn := gonet.NewUDPConn(&wq, ep)
	if !n.hold(conn) {
		return errClosed
	}
	n.spawn(func() { n.serveDHCP(conn) })
	return nil
}

func (n *Network) serveDHCP(conn *gonet.UDPConn) {
	buf := make([]byte, maxDatagram)
	for {
		m, _, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || n.ctx.Err() != nil {
				return
			}
			continue
		}
		req, err := dhcpv4.FromBytes(buf[:m])
		if err != nil {
			continue
		}
		reply := dhcpReply(req, n.cfg.MTU)
		if reply == nil {
			continue
		}
		// RFC 2131 4.1: a client that has its address gets unicast;
		// one that does not cannot answer ARP yet, so it gets a
		// broadcast.
		dst := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpClientPort}
		if ip := req.ClientIPAddr.To4(); ip != nil && !ip.IsUnspecified() {
			dst.IP = ip
		}
		if _, err := conn.WriteTo(reply.ToBytes(), dst); err != nil {
			n.log.Debug("usernet: DHCP reply failed", "err", err)
			continue
		}
		n.log.Debug("usernet: DHCP", "request", req.MessageType(), "reply", reply.MessageType(), "client", req.ClientHWAddr.String())
	}
}

// dhcpReply is the server's answer to req, or nil for none (a message for
// another server, a release, something that is not a request).
func dhcpReply(req *dhcpv4.DHCPv4, mtu int) *dhcpv4.DHCPv4 {
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		return nil
	}
	gw, guest := net.IP(Gateway4.AsSlice()), net.IP(Guest4.AsSlice())
	var typ dhcpv4.MessageType
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest:
		if sid := req.ServerIdentifier(); sid != nil && !sid.Equal(gw) {
			return nil // the client chose another server's offer
		}
		want := req.RequestedIPAddress()
		if want == nil {
			want = req.ClientIPAddr // renewing
		}
		typ = dhcpv4.MessageTypeAck
		if want != nil && !want.IsUnspecified() && !want.Equal(guest) {
			typ = dhcpv4.MessageTypeNak
		}
	case dhcpv4.MessageTypeInform:
		typ = dhcpv4.MessageTypeAck
	default: // release, decline: nothing to do with one address
		return nil
	}

	reply, err := dhcpv4.NewReplyFromRequest(req,
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithServerIP(gw),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(gw)),
	)
	if err != nil {
		return nil
	}
	if typ == dhcpv4.MessageTypeNak {
		return reply
	}
	if req.MessageType() != dhcpv4.MessageTypeInform {
		reply.YourIPAddr = guest
		reply.UpdateOption(dhcpv4.OptIPAddressLeaseTime(LeaseTime))
	}
	reply.UpdateOption(dhcpv4.OptSubnetMask(net.CIDRMask(Subnet4.Bits(), 32)))
	reply.UpdateOption(dhcpv4.OptRouter(gw))
	reply.UpdateOption(dhcpv4.OptDNS(net.IP(DNS4.AsSlice())))
	if mtu != DefaultMTU {
		reply.UpdateOption(dhcpv4.Option{Code: dhcpv4.OptionInterfaceMTU, Value: dhcpv4.Uint16(mtu)})
	}
	return reply
}
