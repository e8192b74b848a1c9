package usernet

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// udpForward is a UDP -p flag: a host socket whose clients each get a flow
// to the guest's port, from a gateway port of their own, so that the
// guest's replies find their way back to the right client.
type udpForward struct {
	n   *Network
	fwd Forward
	pc  *net.UDPConn

	mu    sync.Mutex
	flows map[netip.AddrPort]*udpFlow
}

type udpFlow struct {
	*flow
	guest *gonet.UDPConn
}

func listenUDP(n *Network, f Forward) (*udpForward, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(n.ctx, "udp", f.HostAddr.String())
	if err != nil {
		return nil, err
	}
	n.hold(pc)
	return &udpForward{n: n, fwd: f, pc: pc.(*net.UDPConn), flows: make(map[netip.AddrPort]*udpFlow)}, nil
}

func (u *udpForward) addr() netip.AddrPort {
	return u.pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (u *udpForward) serve() {
	buf := make([]byte, maxDatagram)
	for {
		n, client, err := u.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. an ICMP error for an earlier reply
		}
		fl := u.flowFor(client)
		if fl == nil {
			continue // dropped: too many clients, or closing
		}
		fl.touch()
		fl.guest.Write(buf[:n]) // a full guest queue drops it, as UDP may
	}
}

// flowFor returns client's flow, starting one if it has none.
func (u *udpForward) flowFor(client netip.AddrPort) *udpFlow {
	u.mu.Lock()
	defer u.mu.Unlock()
	if fl, ok := u.flows[client]; ok {
		return fl
	}
	if len(u.flows) >= maxUDPFlows {
		u.n.log.Warn("usernet: too many UDP clients, dropping a datagram", "forward", u.fwd.String(), "from", client)
		return nil
	}
	g, err := gonet.DialUDP(u.n.stack, nil, &tcpip.FullAddress{
		NIC:  nicID,
		Addr: tcpipAddr(Guest4),
		Port: u.fwd.GuestPort,
	}, ipv4.ProtocolNumber)
	if err != nil {
		u.n.log.Warn("usernet: UDP flow to the guest failed", "forward", u.fwd.String(), "err", err)
		return nil
	}
	fl := &udpFlow{flow: newFlow(u.n.cfg.UDPIdle), guest: g}
	if !u.n.hold(g) {
		return nil
	}
	u.flows[client] = fl
	if !u.n.spawn(func() { u.replies(client, fl) }) {
		delete(u.flows, client)
		u.n.drop(g)
		return nil
	}
	return fl
}

// replies passes the guest's datagrams on fl back to its client, until
// the flow expires.
func (u *udpForward) replies(client netip.AddrPort, fl *udpFlow) {
	fl.pump(fl.guest, func(b []byte) { u.pc.WriteToUDPAddrPort(b, client) })
	u.mu.Lock()
	delete(u.flows, client)
	u.mu.Unlock()
	u.n.drop(fl.guest)
}
