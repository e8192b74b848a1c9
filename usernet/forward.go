package usernet

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Protocols of a Forward.
const (
	TCP = "tcp"
	UDP = "udp"
)

// Forward is one -p flag: connections (TCP) or datagrams (UDP) to HostAddr
// on the host reach the guest's GuestPort, coming from Gateway4.
type Forward struct {
	// Proto is TCP or UDP.
	Proto string
	// HostAddr is where the host listens. Its address is 0.0.0.0 unless
	// the flag names one, as with Docker; port 0 picks a free port, which
	// Network.Forwards then reports.
	HostAddr netip.AddrPort
	// GuestPort is the guest's port, never 0.
	GuestPort uint16
}

// String returns f in the flag's syntax, the form ParseForward reads:
// "8080:80", "127.0.0.1:8080:80/udp", "[::1]:8080:80".
func (f Forward) String() string {
	var b strings.Builder
	if a := f.HostAddr.Addr(); a.IsValid() && a != netip.IPv4Unspecified() {
		if a.Is6() {
			b.WriteString("[" + a.String() + "]:")
		} else {
			b.WriteString(a.String() + ":")
		}
	}
	fmt.Fprintf(&b, "%d:%d", f.HostAddr.Port(), f.GuestPort)
	if f.Proto != TCP {
		b.WriteString("/" + f.Proto)
	}
	return b.String()
}

// validate reports what makes f unusable by Start.
func (f Forward) validate() error {
	switch {
	case f.Proto != TCP && f.Proto != UDP:
		return fmt.Errorf("protocol %q is not %s or %s", f.Proto, TCP, UDP)
	case !f.HostAddr.IsValid():
		return errors.New("no host address")
	case f.GuestPort == 0:
		return errors.New("guest port 0")
	}
	return nil
}

// ParseForward parses a -p flag's value: [IP:]HOSTPORT:GUESTPORT[/PROTO],
// where IP is an IPv4 address or a bracketed IPv6 one (default 0.0.0.0),
// HOSTPORT may be 0 for any free port, and PROTO is tcp (the default) or
// udp. A lone GUESTPORT publishes it on a free host port, as Docker's
// `-p 80` does. Errors name the flag and the part that is wrong.
func ParseForward(s string) (Forward, error) {
	f, err := parseForward(s)
	if err != nil {
		return Forward{}, fmt.Errorf("-p %s: %w", s, err)
	}
	return f, nil
}

func parseForward(s string) (Forward, error) {
	f := Forward{Proto: TCP}
	rest := s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		rest, f.Proto = s[:i], s[i+1:]
		if f.Proto != TCP && f.Proto != UDP {
			return Forward{}, fmt.Errorf("protocol %q is not %s or %s", f.Proto, TCP, UDP)
		}
	}

	addr := netip.IPv4Unspecified()
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return Forward{}, errors.New("want [IPv6]:HOSTPORT:GUESTPORT")
		}
		a, err := netip.ParseAddr(rest[1:end])
		if err != nil || !a.Is6() {
			return Forward{}, fmt.Errorf("host address %q is not an IPv6 address", rest[1:end])
		}
		addr, rest = a, rest[end+2:]
		if strings.Count(rest, ":") != 1 {
			return Forward{}, errors.New("want [IPv6]:HOSTPORT:GUESTPORT")
		}
	}

	parts := strings.Split(rest, ":")
	switch len(parts) {
	case 1: // GUESTPORT: any free host port
		parts = []string{"0", parts[0]}
	case 2: // HOSTPORT:GUESTPORT
	case 3: // IP:HOSTPORT:GUESTPORT
		if parts[0] != "" {
			a, err := netip.ParseAddr(parts[0])
			if err != nil || !a.Is4() {
				return Forward{}, fmt.Errorf("host address %q is not an IPv4 address", parts[0])
			}
			addr = a
		}
		parts = parts[1:]
	default:
		return Forward{}, errors.New("want [IP:]HOSTPORT:GUESTPORT (an IPv6 address goes in brackets: [::1]:8080:80)")
	}

	hostPort, err := parsePort("host", parts[0], 0)
	if err != nil {
		return Forward{}, err
	}
	f.GuestPort, err = parsePort("guest", parts[1], 1)
	if err != nil {
		return Forward{}, err
	}
	f.HostAddr = netip.AddrPortFrom(addr, hostPort)
	return f, nil
}

// parsePort parses a decimal port no smaller than min.
func parsePort(which, s string, min uint16) (uint16, error) {
	if strings.Contains(s, "-") {
		return 0, fmt.Errorf("%s port %q: port ranges are not supported", which, s)
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s port %q is not a number", which, s)
	}
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || uint16(p) < min {
		return 0, fmt.Errorf("%s port %s is out of range (%d-65535)", which, s, min)
	}
	return uint16(p), nil
}
