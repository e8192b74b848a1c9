package dhcp

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Lease is an IPv4 configuration granted by a server.
type Lease struct {
	Address  netip.Prefix // the client's address, with the network's prefix length
	Router   netip.Addr   // the default gateway; zero when the server named none
	DNS      []netip.Addr
	Server   netip.Addr // the server identifier, where renewals go
	Duration time.Duration
	T1, T2   time.Duration // when to renew and rebind, counted from Acquired
	Acquired time.Time
}

// Expiry is when the lease runs out.
func (l Lease) Expiry() time.Time { return l.Acquired.Add(l.Duration) }

// SameConfig reports whether l and m configure the interface alike, so a
// renewal that returns the same configuration changes nothing.
func (l Lease) SameConfig(m Lease) bool {
	if l.Address != m.Address || l.Router != m.Router || len(l.DNS) != len(m.DNS) {
		return false
	}
	for i := range l.DNS {
		if l.DNS[i] != m.DNS[i] {
			return false
		}
	}
	return true
}

func (l Lease) String() string {
	return fmt.Sprintf("%s router %v dns %v from %s for %v", l.Address, l.Router, l.DNS, l.Server, l.Duration)
}

// defaultLease is the lease time assumed when an ACK gives none.
const defaultLease = time.Hour

// leaseFrom reads the lease out of an ACK received at t from peer.
func leaseFrom(ack *dhcpv4.DHCPv4, peer net.Addr, t time.Time) (Lease, error) {
	addr, ok := addr4(ack.YourIPAddr)
	if !ok || addr.IsUnspecified() {
		return Lease{}, fmt.Errorf("ACK without an address (yiaddr %v)", ack.YourIPAddr)
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = net.IP(addr.AsSlice()).DefaultMask()
	}
	bits, total := mask.Size()
	if total != 32 || bits == 0 {
		return Lease{}, fmt.Errorf("ACK with a bad subnet mask %v", mask)
	}
	l := Lease{Address: netip.PrefixFrom(addr, bits), Acquired: t}
	for _, r := range ack.Router() {
		if a, ok := addr4(r); ok && !a.IsUnspecified() {
			l.Router = a
			break
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := addr4(d); ok && !a.IsUnspecified() {
			l.DNS = append(l.DNS, a)
		}
	}
	if a, ok := addr4(ack.ServerIdentifier()); ok {
		l.Server = a
	} else if u, ok := peer.(*net.UDPAddr); ok {
		l.Server, _ = addr4(u.IP)
	}
	l.Duration = ack.IPAddressLeaseTime(defaultLease)
	l.T1 = ack.IPAddressRenewalTime(l.Duration / 2)
	l.T2 = ack.IPAddressRebindingTime(l.Duration * 7 / 8)
	if l.T2 <= 0 || l.T2 > l.Duration {
		l.T2 = l.Duration * 7 / 8
	}
	if l.T1 <= 0 || l.T1 > l.T2 {
		l.T1 = l.Duration / 2
	}
	return l, nil
}

func addr4(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	return a, a.Is4()
}
