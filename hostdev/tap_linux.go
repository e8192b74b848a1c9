package hostdev

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// openTAP attaches to an existing TAP interface. It does not create one:
// the interface, its owner and its bridge are the host's configuration,
// as with Solo5 and Firecracker.
func openTAP(s Spec) (*Device, error) {
	ifc, err := net.InterfaceByName(s.Path)
	if err != nil {
		return nil, wrap(s, fmt.Errorf("no network interface %s: create it with `ip tuntap add %s mode tap user $USER && ip link set %s up`", s.Path, s.Path, s.Path))
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, wrap(s, fmt.Errorf("open /dev/net/tun: %w", err))
	}
	ifr, err := unix.NewIfreq(s.Path)
	if err != nil {
		unix.Close(fd)
		return nil, wrap(s, err)
	}
	// With virtio-net headers the kernel hands over and takes TCP segments
	// of up to 64 KiB with partial checksums: the guest's stack and the
	// host's cut and sum nothing per 1500-byte packet (abi.Device.Vnet).
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.EPERM):
			return nil, wrap(s, fmt.Errorf("attach to %s: permission denied: give it to your user with `ip tuntap add %s mode tap user $USER` (or run as root)", s.Path, s.Path))
		case errors.Is(err, unix.EINVAL):
			return nil, wrap(s, fmt.Errorf("%s is not a TAP interface: create one with `ip tuntap add NAME mode tap user $USER`", s.Path))
		case errors.Is(err, unix.EBUSY):
			return nil, wrap(s, fmt.Errorf("%s is in use by another process", s.Path))
		}
		return nil, wrap(s, fmt.Errorf("attach to %s: %w", s.Path, err))
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
		unix.Close(fd)
		return nil, wrap(s, fmt.Errorf("offload on %s: %w", s.Path, err))
	}
	mtu := ifc.MTU
	if mtu <= 0 || mtu > 9000 {
		mtu = 1500
	}
	f := os.NewFile(uintptr(fd), "tap:"+s.Path)
	info := abi.Device{Kind: abi.NetDevice, Name: s.Name, MAC: randomMAC().String(), MTU: mtu, Vnet: true}
	return &Device{Spec: s, File: f, Info: info}, nil
}
