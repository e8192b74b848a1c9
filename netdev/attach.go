package netdev

import (
	"fmt"
	"net"
	"net/netip"
)

// Info describes an attached network device.
type Info struct {
	Name string
	MAC  net.HardwareAddr
	MTU  int
	// Addresses the monitor assigns, as with -p user-mode networking,
	// where the network behind the device is the monitor's own. Zero
	// values mean the image configures itself (boot arguments, DHCP).
	IPv4        netip.Prefix
	IPv4Gateway netip.Addr
	DNS         []netip.Addr
}

// List returns the network devices the monitor attached, in the order
// given on its command line.
func List() []Info {
	return nil // wired to the monitor's device table in a later change
}

// Sandboxed reports whether the image runs where the host's sockets are
// closed to it (hvt and spt modes), so that the only network is an
// attached device.
func Sandboxed() bool {
	return false // wired to the monitor's device table in a later change
}

// Open returns the network device attached under name.
func Open(name string) (Device, error) {
	return nil, fmt.Errorf("netdev: open %q: no such device attached", name)
}
