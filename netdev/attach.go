package netdev

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/device"
)

// Info describes an attached network device.
type Info struct {
	Name string
	MAC  net.HardwareAddr
	MTU  int
	// Vnet: frames start with a VnetHdr (Device.Vnet).
	Vnet bool
	// Addresses the monitor assigns, as with -p user-mode networking,
	// where the network behind the device is the monitor's own. Zero
	// values mean the image configures itself (boot arguments, DHCP).
	IPv4        netip.Prefix
	IPv4Gateway netip.Addr
	DNS         []netip.Addr
}

// FrameLen is the size of the device's largest frame (Device.FrameLen).
func (i Info) FrameLen() int {
	return abi.NetFrameMax(abi.Device{MTU: i.MTU, Vnet: i.Vnet})
}

// List returns the network devices the monitor attached, in the order
// given on its command line. Devices it cannot describe are left out.
func List() []Info {
	devs, err := device.List(abi.NetDevice)
	if err != nil {
		return nil
	}
	var out []Info
	for _, d := range devs {
		if info, err := infoOf(d); err == nil {
			out = append(out, info)
		}
	}
	return out
}

// Sandboxed reports whether the image runs where the host's sockets are
// closed to it (hvt and spt modes), so that the only network is an
// attached device.
func Sandboxed() bool { return device.Sandboxed() }

// Open returns the network device attached under name.
func Open(name string) (Device, error) {
	d, err := device.Lookup(abi.NetDevice, name)
	if err != nil {
		return nil, fmt.Errorf("netdev: open %s: %w", name, err)
	}
	info, err := infoOf(d)
	if err != nil {
		return nil, fmt.Errorf("netdev: open %s: %w", name, err)
	}
	if d.Ring {
		if dev, err := openRing(d, info); err == nil {
			return dev, nil
		}
	}
	return openFile(d, info)
}

func infoOf(d abi.Device) (Info, error) {
	mac, err := net.ParseMAC(d.MAC)
	if err != nil || len(mac) != 6 {
		return Info{}, fmt.Errorf("bad MAC %q", d.MAC)
	}
	if d.MTU < 68 || d.MTU > 65535 {
		return Info{}, fmt.Errorf("bad MTU %d", d.MTU)
	}
	info := Info{Name: d.Name, MAC: mac, MTU: d.MTU, Vnet: d.Vnet}
	if d.IPv4 != "" {
		if info.IPv4, err = netip.ParsePrefix(d.IPv4); err != nil {
			return Info{}, fmt.Errorf("bad address %q", d.IPv4)
		}
	}
	if d.IPv4Gateway != "" {
		if info.IPv4Gateway, err = netip.ParseAddr(d.IPv4Gateway); err != nil {
			return Info{}, fmt.Errorf("bad gateway %q", d.IPv4Gateway)
		}
	}
	for _, s := range strings.FieldsFunc(d.DNS, func(r rune) bool { return r == ' ' || r == '+' }) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Info{}, fmt.Errorf("bad DNS server %q", s)
		}
		info.DNS = append(info.DNS, a)
	}
	return info, nil
}
