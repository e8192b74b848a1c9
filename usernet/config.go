package usernet

import (
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Config is what Start serves.
type Config struct {
	// Forwards are the -p flags.
	Forwards []Forward
	// Outbound lets the guest's connections and datagrams out through
	// host sockets, NATed to the monitor's own: to any address, to the
	// host's loopback through Gateway4 (or Gateway6), and to the host's
	// resolver through DNS4 (or DNS6) port 53. Without it the guest
	// reaches nothing but the gateway's DHCP and ping.
	Outbound bool
	// Resolvers are where DNS queries go with Outbound; nil means the
	// nameservers of /etc/resolv.conf, read by Start.
	Resolvers []netip.AddrPort
	// GuestMAC, when set, is the hardware address the monitor gave the
	// guest's NIC. The gateway then trusts it rather than ARP and neighbor
	// discovery: it never asks, and a frame claiming another address for
	// the guest cannot divert the guest's traffic. Nil means learn it.
	GuestMAC net.HardwareAddr
	// MTU is the link's, from 1280 to MaxMTU; 0 means DefaultMTU. The
	// guest's NIC must be given the same.
	MTU int
	// UDPIdle ends a UDP flow that carried nothing for this long; 0
	// means a minute (DNS flows: dnsIdle).
	UDPIdle time.Duration
	// Log receives the network's events; nil discards them.
	Log *slog.Logger
}

const (
	defaultUDPIdle = time.Minute
	// dnsIdle is shorter: resolvers use a new port for each query.
	dnsIdle = 5 * time.Second
	// maxTCPConns bounds the connections relayed at once, forwarded and
	// outbound together; more are refused.
	maxTCPConns = 4096
	// maxUDPFlows bounds the flows of each UDP forward, and the outbound
	// ones; datagrams that would start another are dropped.
	maxUDPFlows = 256
	// dialTimeout bounds a connection's setup, to the guest or the host.
	dialTimeout = 10 * time.Second
)
