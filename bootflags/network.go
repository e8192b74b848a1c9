package bootflags

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
)

// Network is the address configuration of the unikernel's network stack.
// Zero values mean "not given": the stack then uses DHCP (IPv4) and SLAAC
// (IPv6).
type Network struct {
	IPv4        netip.Prefix // --ipv4=ADDR/LEN
	IPv4Gateway netip.Addr   // --ipv4-gateway=ADDR
	IPv6        netip.Prefix // --ipv6=ADDR/LEN
	IPv6Gateway netip.Addr   // --ipv6-gateway=ADDR
	DNSServers  []netip.Addr // --dns-servers=ADDR[,ADDR...]
}

// RegisterNetwork defines the network flags on fs and returns where their
// values will be.
func RegisterNetwork(fs *flag.FlagSet) *Network {
	n := &Network{}
	fs.Func("ipv4", "IPv4 address and prefix length of the interface, e.g. 10.0.0.2/24 (default: DHCP)",
		prefixFlag(&n.IPv4, netip.Addr.Is4))
	fs.Func("ipv4-gateway", "IPv4 default gateway", addrFlag(&n.IPv4Gateway, netip.Addr.Is4))
	fs.Func("ipv6", "IPv6 address and prefix length, e.g. fd00::2/64 (default: SLAAC)",
		prefixFlag(&n.IPv6, is6))
	fs.Func("ipv6-gateway", "IPv6 default gateway", addrFlag(&n.IPv6Gateway, is6))
	fs.Func("dns-servers", "comma-separated resolver addresses", func(s string) error {
		n.DNSServers = n.DNSServers[:0]
		for _, f := range strings.Split(s, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("bad address %q", f)
			}
			n.DNSServers = append(n.DNSServers, a)
		}
		return nil
	})
	return n
}

func is6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }

func prefixFlag(dst *netip.Prefix, family func(netip.Addr) bool) func(string) error {
	return func(s string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("want ADDRESS/LENGTH, e.g. 10.0.0.2/24: %v", err)
		}
		if !family(p.Addr()) {
			return fmt.Errorf("%s is of the wrong address family", s)
		}
		*dst = p
		return nil
	}
}

func addrFlag(dst *netip.Addr, family func(netip.Addr) bool) func(string) error {
	return func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return err
		}
		if !family(a) {
			return fmt.Errorf("%s is of the wrong address family", s)
		}
		*dst = a
		return nil
	}
}

// Check reports inconsistent settings: a gateway outside the interface's
// own network.
func (n *Network) Check() error {
	if n.IPv4Gateway.IsValid() && n.IPv4.IsValid() && !n.IPv4.Contains(n.IPv4Gateway) {
		return fmt.Errorf("--ipv4-gateway %s is not in --ipv4 %s", n.IPv4Gateway, n.IPv4.Masked())
	}
	if n.IPv6Gateway.IsValid() && n.IPv6.IsValid() && !n.IPv6Gateway.IsLinkLocalUnicast() && !n.IPv6.Contains(n.IPv6Gateway) {
		return fmt.Errorf("--ipv6-gateway %s is neither link-local nor in --ipv6 %s", n.IPv6Gateway, n.IPv6.Masked())
	}
	return nil
}
