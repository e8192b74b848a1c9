package stack

import (
	"context"
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/morgana-os/morgana/stack/dhcp"
)

// startDHCP runs a DHCP client on n until the stack closes. Its socket is
// bound to port 68 on n alone and may broadcast; until the first lease,
// n's only IPv4 address is 0.0.0.0, the source RFC 2131 asks for.
func (s *Stack) startDHCP(n *nic) error {
	var wq waiter.Queue
	ep, err := s.gv.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if err != nil {
		return fmt.Errorf("stack: DHCP socket on %s: %s", n.name, err)
	}
	ep.SocketOptions().SetBroadcast(true)
	ep.SocketOptions().SetReuseAddress(true)
	if err := ep.SocketOptions().SetBindToDevice(int32(n.id)); err != nil {
		ep.Close()
		return fmt.Errorf("stack: DHCP socket on %s: %s", n.name, err)
	}
	if err := ep.Bind(tcpip.FullAddress{NIC: n.id, Port: dhcp.ClientPort}); err != nil {
		ep.Close()
		return fmt.Errorf("stack: DHCP socket on %s: binding port %d: %s", n.name, dhcp.ClientPort, err)
	}
	conn := newUDPConn(&socket{ep: ep, wq: &wq, proto: ipv4.ProtocolNumber, network: "udp4"})
	c := &dhcp.Client{
		Conn:     conn,
		MAC:      n.cfg.Device.MAC(),
		Logger:   s.log.With("nic", n.name),
		OnLease:  func(l dhcp.Lease) { s.applyLease(n, l) },
		OnExpire: func(l dhcp.Lease) { s.dropLease(n) },
		Timeout:  dhcpClientTimeout,
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer conn.Close()
		if err := c.Run(s.ctx); s.ctx.Err() == nil {
			s.log.Error("dhcp: client stopped", "nic", n.name, "err", err)
		}
	}()
	return nil
}

// applyLease configures n from l: its address with the route of its
// network, its default route, its DNS servers. A renewal that changes
// nothing changes nothing.
func (s *Stack) applyLease(n *nic, l dhcp.Lease) {
	old := n.lease
	if old.Address != l.Address {
		if err := s.addAddress(n, l.Address, true); err != nil {
			s.log.Error("dhcp: applying lease", "nic", n.name, "err", err)
			return
		}
		if old.Address.IsValid() {
			s.removeAddress(n, old.Address)
		} else {
			s.removeAddress(n, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
		}
		s.announce(n, l.Address.Addr())
	}
	if old.Router != l.Router || old.Address != l.Address {
		s.clearGateway(n, old.Router)
		s.setGateway(n, l.Router)
	}
	s.dns.setDHCP(n.id, l.DNS)
	n.lease = l
	n.leaseOnce.Do(func() { close(n.leased) })
}

// dropLease takes an expired lease's configuration off n, which goes back
// to 0.0.0.0 while the client starts over.
func (s *Stack) dropLease(n *nic) {
	old := n.lease
	if !old.Address.IsValid() {
		return
	}
	if err := s.addAddress(n, netip.PrefixFrom(netip.IPv4Unspecified(), 0), false); err != nil {
		s.log.Error("dhcp: dropping lease", "nic", n.name, "err", err)
	}
	s.clearGateway(n, old.Router)
	s.removeAddress(n, old.Address)
	s.dns.setDHCP(n.id, nil)
	n.lease = dhcp.Lease{}
}

// WaitDHCP waits until every NIC that uses DHCP holds a lease, or ctx is
// done; then it names the NICs still without one.
func (s *Stack) WaitDHCP(ctx context.Context) error {
	var missing []string
	for _, n := range s.nics {
		if !n.cfg.DHCP {
			continue
		}
		select {
		case <-n.leased:
		case <-ctx.Done():
		}
		select {
		case <-n.leased:
		default:
			missing = append(missing, n.name)
		}
	}
	if len(missing) > 0 {
		return &DHCPError{NICs: missing, Err: ctx.Err()}
	}
	return nil
}

// DHCPError is WaitDHCP's error: NICs without a lease when time ran out.
type DHCPError struct {
	NICs []string
	Err  error // why waiting stopped: ctx's error
}

func (e *DHCPError) Error() string {
	return fmt.Sprintf("stack: no DHCP lease on NIC %q: %v", e.NICs, e.Err)
}

func (e *DHCPError) Unwrap() error { return e.Err }

// hasLease reports whether n got its first DHCP lease.
func (n *nic) hasLease() bool {
	select {
	case <-n.leased:
		return true
	default:
		return false
	}
}
