package usernet

import (
	"context"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// maxPendingSYNs bounds the guest's connections being set up at once; the
// guest retransmits the SYNs beyond it.
const maxPendingSYNs = 512

// startOutbound has the gateway take the guest's connections and
// datagrams to any address (the NIC is promiscuous) and carry each over a
// host socket of its own to the real destination, or to what hostTarget
// maps it to. The guest sees its peer's address and port, as behind a NAT;
// the peer sees the host.
func (n *Network) startOutbound() {
	tf := tcp.NewForwarder(n.stack, 0, maxPendingSYNs, n.outboundTCP)
	n.stack.SetTransportProtocolHandler(tcp.ProtocolNumber, tf.HandlePacket)
	uf := udp.NewForwarder(n.stack, n.outboundUDP)
	n.stack.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
}

// hostTarget is where a guest's connection to dst goes on the host, or
// false for nowhere: the gateway stands for the host's loopback, the DNS
// address port 53 for the host's resolver; the link's other addresses, and
// addresses that are not global unicast ones, are refused.
func (n *Network) hostTarget(dst netip.AddrPort) (netip.AddrPort, bool) {
	a, port := dst.Addr().Unmap(), dst.Port()
	switch {
	case a == Gateway4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port), true
	case a == Gateway6:
		return netip.AddrPortFrom(netip.IPv6Loopback(), port), true
	case a == DNS4 || a == DNS6:
		if port != 53 || len(n.cfg.Resolvers) == 0 {
			return netip.AddrPort{}, false
		}
		return n.cfg.Resolvers[0], true
	case Subnet4.Contains(a) || Subnet6.Contains(a) || !a.IsGlobalUnicast():
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, port), true
}

// outboundTCP takes a guest's SYN. It runs on a goroutine of netstack's,
// and hands the connection to one of the network's.
func (n *Network) outboundTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	dst := netip.AddrPortFrom(netipAddr(id.LocalAddress), id.LocalPort)
	target, ok := n.hostTarget(dst)
	if !ok || !n.acquireConn() {
		r.Complete(true) // a reset: the guest sees "connection refused"
		return
	}
	if !n.spawn(func() { defer n.releaseConn(); n.connectOut(r, dst, target) }) {
		n.releaseConn()
		r.Complete(true)
	}
}

// connectOut dials target on the host and only then completes the guest's
// handshake, so that a refused or unreachable destination is a refused
// connection in the guest too.
func (n *Network) connectOut(r *tcp.ForwarderRequest, dst, target netip.AddrPort) {
	ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
	var d net.Dialer
	hc, err := d.DialContext(ctx, "tcp", target.String())
	cancel()
	if err != nil {
		n.log.Debug("usernet: outbound connection failed", "to", dst, "via", target, "err", err)
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	r.Complete(false)
	if terr != nil {
		hc.Close()
		return
	}
	g := gonet.NewTCPConn(&wq, ep)
	if !n.hold(hc) || !n.hold(g) {
		hc.Close()
		g.Close()
		return
	}
	defer n.drop(hc)
	defer n.drop(g)
	n.log.Debug("usernet: outbound connection", "to", dst, "via", target)
	splice(hc.(*net.TCPConn), g)
}

// outboundUDP takes a guest's datagram that no socket of the gateway's
// wanted, and starts a flow for its source and destination. It runs on the
// goroutine that delivers the frame, so it leaves the dialing to another.
func (n *Network) outboundUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	dst := netip.AddrPortFrom(netipAddr(id.LocalAddress), id.LocalPort)
	target, ok := n.hostTarget(dst)
	if !ok {
		return false // netstack answers "port unreachable"
	}
	if !n.outFlows.acquire() {
		n.log.Warn("usernet: too many outbound UDP flows, dropping a datagram", "to", dst)
		return true
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq) // queues the datagram on ep
	if terr != nil {
		n.outFlows.release()
		return true
	}
	g := gonet.NewUDPConn(&wq, ep)
	if !n.hold(g) {
		n.outFlows.release()
		return true
	}
	idle := n.cfg.UDPIdle
	if a := dst.Addr(); (a == DNS4 || a == DNS6) && idle > dnsIdle {
		idle = dnsIdle
	}
	if !n.spawn(func() {
		defer n.outFlows.release()
		defer n.drop(g)
		n.relayUDP(g, target, idle)
	}) {
		n.outFlows.release()
		n.drop(g)
	}
	return true
}

// relayUDP carries datagrams between the guest's socket g and a host
// socket connected to target, until the flow is idle for idle.
func (n *Network) relayUDP(g *gonet.UDPConn, target netip.AddrPort, idle time.Duration) {
	hc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
	if err != nil {
		n.log.Debug("usernet: outbound UDP failed", "to", target, "err", err)
		return
	}
	if !n.hold(hc) {
		return
	}
	defer n.drop(hc)
	fl := newFlow(idle)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fl.pump(hc, func(b []byte) { g.Write(b) })
		g.Close() // ends the other direction
	}()
	fl.pump(g, func(b []byte) { hc.Write(b) })
	hc.Close()
	<-done
}
