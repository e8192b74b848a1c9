package usernet

import (
	"net"
	"net/netip"
)

// The link's addressing is fixed, as slirp's is (QEMU's -netdev user): one
// guest, one gateway, one resolver. The IPv6 addresses are slirp4netns's.
var (
	// Subnet4 is the link's IPv4 network.
	Subnet4 = netip.MustParsePrefix("10.0.2.0/24")
	// Gateway4 is the monitor's address on the link, the guest's default
	// router. Connections from the guest to it reach the host's loopback
	// (with Config.Outbound), and forwarded connections come from it.
	Gateway4 = netip.MustParseAddr("10.0.2.2")
	// DNS4 is the resolver the guest is given; the monitor passes its
	// queries to the host's (with Config.Outbound).
	DNS4 = netip.MustParseAddr("10.0.2.3")
	// Guest4 is the guest's address, the one -p forwards reach.
	Guest4 = netip.MustParseAddr("10.0.2.15")
	// GuestPrefix4 is Guest4 with the link's prefix length, as the image
	// configures its NIC.
	GuestPrefix4 = netip.PrefixFrom(Guest4, Subnet4.Bits())

	// Subnet6 is the link's IPv6 network, a unique local prefix.
	Subnet6 = netip.MustParsePrefix("fd00::/64")
	// Gateway6 is the monitor's IPv6 address; it stands for the host's ::1.
	Gateway6 = netip.MustParseAddr("fd00::2")
	// DNS6 is the IPv6 resolver address.
	DNS6 = netip.MustParseAddr("fd00::3")
	// Guest6 is the guest's IPv6 address.
	Guest6 = netip.MustParseAddr("fd00::100")
	// GuestPrefix6 is Guest6 with the link's prefix length.
	GuestPrefix6 = netip.PrefixFrom(Guest6, Subnet6.Bits())

	// GatewayMAC is the gateway's hardware address (slirp's).
	GatewayMAC = net.HardwareAddr{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}
	// GuestMAC is a hardware address the monitor may give the guest's NIC
	// (QEMU's default); the gateway learns whichever the guest uses.
	GuestMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

// DefaultMTU is the link's MTU when Config.MTU is zero: an Ethernet
// payload, so that the guest's packets fit any host path unfragmented.
const DefaultMTU = 1500

// MaxMTU is the largest MTU the link carries, slirp4netns's maximum.
const MaxMTU = 65520

// isGateway reports whether a is one of the monitor's own addresses.
func isGateway(a netip.Addr) bool {
	return a == Gateway4 || a == DNS4 || a == Gateway6 || a == DNS6
}
