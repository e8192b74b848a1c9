package stack

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/morgana-os/morgana/netdev"
)

// Config is what New builds a Stack from.
type Config struct {
	// NICs are the network interfaces, in order. The first is the one
	// the boot arguments configure when Default builds the stack.
	NICs []NICConfig
	// DNSServers are the resolvers Dial uses for host names, tried in
	// order before those learned by DHCP or router advertisements.
	DNSServers []netip.Addr
	// Logger receives the stack's events (addresses, leases, device
	// errors). Nil discards them.
	Logger *slog.Logger
	// DisableUDPFastPath sends every UDP datagram through gVisor's
	// netstack, including those the fast path of ListenPacket's sockets
	// would take (see the package documentation).
	DisableUDPFastPath bool
}

// NICConfig configures one network interface.
//
// IPv6 needs no configuration: every NIC has a link-local address and
// configures global ones from router advertisements (SLAAC), next to the
// static IPv6 address if one is given.
type NICConfig struct {
	Device netdev.Device

	// IPv4 is the interface's static address and prefix length. With
	// DHCP set, it is ignored.
	IPv4        netip.Prefix
	IPv4Gateway netip.Addr
	// IPv6 is a static address, in addition to the automatic ones.
	IPv6        netip.Prefix
	IPv6Gateway netip.Addr // may be link-local

	// DHCP runs a DHCPv4 client on the interface, which assigns its IPv4
	// address, gateway and DNS servers and renews the lease.
	DHCP bool
}

func (c *NICConfig) check() error {
	if c.Device == nil {
		return fmt.Errorf("no device")
	}
	if c.IPv4.IsValid() && !c.IPv4.Addr().Is4() {
		return fmt.Errorf("IPv4 address %s is not IPv4", c.IPv4)
	}
	if c.IPv4Gateway.IsValid() && !c.IPv4Gateway.Is4() {
		return fmt.Errorf("IPv4 gateway %s is not IPv4", c.IPv4Gateway)
	}
	if c.IPv6.IsValid() && !is6(c.IPv6.Addr()) {
		return fmt.Errorf("IPv6 address %s is not IPv6", c.IPv6)
	}
	if c.IPv6Gateway.IsValid() && !is6(c.IPv6Gateway) {
		return fmt.Errorf("IPv6 gateway %s is not IPv6", c.IPv6Gateway)
	}
	if c.IPv4Gateway.IsValid() && !c.DHCP && !c.IPv4.IsValid() {
		return fmt.Errorf("IPv4 gateway %s without an IPv4 address", c.IPv4Gateway)
	}
	return nil
}

func is6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
