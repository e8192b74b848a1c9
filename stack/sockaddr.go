package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// family is the address family a network name asks for: 0 for either.
type family int

// parseNetwork splits "tcp", "udp6" and the like into the transport and
// the family.
func parseNetwork(network string) (transport string, f family, err error) {
	switch network {
	case "tcp", "udp":
		return network, 0, nil
	case "tcp4", "udp4":
		return network[:3], 4, nil
	case "tcp6", "udp6":
		return network[:3], 6, nil
	}
	return "", 0, net.UnknownNetworkError(network)
}

func (f family) allows(a netip.Addr) bool {
	switch f {
	case 4:
		return a.Unmap().Is4()
	case 6:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// services are the port names Dial and Listen know, without an
// /etc/services to read.
var services = map[string]uint16{
	"domain": 53, "http": 80, "https": 443, "ntp": 123, "ssh": 22, "smtp": 25, "http-alt": 8080,
}

func splitHostPort(address string) (host string, port uint16, err error) {
	host, p, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	if n, err := strconv.ParseUint(p, 10, 16); err == nil {
		return host, uint16(n), nil
	}
	if n, ok := services[p]; ok {
		return host, n, nil
	}
	return "", 0, &net.AddrError{Err: "unknown port", Addr: address}
}

// fullAddr is a and port in gVisor's terms: the zone names the NIC,
// IPv4-mapped addresses become IPv4.
func (s *Stack) fullAddr(a netip.Addr, port uint16) (tcpip.FullAddress, tcpip.NetworkProtocolNumber, error) {
	fa := tcpip.FullAddress{Port: port}
	if z := a.Zone(); z != "" {
		n, ok := s.byName[z]
		if !ok {
			return fa, 0, &net.AddrError{Err: "unknown zone (no such NIC)", Addr: a.String()}
		}
		fa.NIC = n.id
		a = a.WithZone("")
	}
	fa.Addr = addrToTCPIP(a)
	if a.Unmap().Is4() {
		return fa, ipv4.ProtocolNumber, nil
	}
	return fa, ipv6.ProtocolNumber, nil
}

// resolve turns host into addresses of family f: literal addresses as
// they are, "" and "localhost" as loopback, names through DNS.
func (s *Stack) resolve(ctx context.Context, host string, f family) ([]netip.Addr, error) {
	if host == "" {
		host = "localhost"
	}
	network := map[family]string{0: "ip", 4: "ip4", 6: "ip6"}[f]
	addrs, err := s.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.AddrError{Err: "no suitable address found", Addr: host}
	}
	return addrs, nil
}

func tcpAddr(a netip.Addr, port uint16) *net.TCPAddr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, port))
}

func udpAddr(a netip.Addr, port uint16) *net.UDPAddr {
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, port))
}

func sockAddr(transport string, a netip.Addr, port uint16) net.Addr {
	if transport == "udp" {
		return udpAddr(a, port)
	}
	return tcpAddr(a, port)
}

// listenAddr resolves the local address of Listen and ListenPacket: an
// empty or unspecified host listens on every address of f (both families
// for "tcp" and "udp", as on Linux).
func (s *Stack) listenAddr(ctx context.Context, f family, host string) (netip.Addr, error) {
	if host == "" {
		if f == 4 {
			return netip.IPv4Unspecified(), nil
		}
		return netip.IPv6Unspecified(), nil
	}
	addrs, err := s.resolve(ctx, host, f)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

func errUnsuitable(network, address string) error {
	return &net.AddrError{Err: fmt.Sprintf("no suitable address for %s", network), Addr: address}
}
