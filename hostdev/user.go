package hostdev

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// User-mode networking addresses (as slirp's): the monitor's network is
// 10.0.2.0/24 with itself at .2 and its resolver at .3.
const (
	UserGuestIPv4 = "10.0.2.15/24"
	UserGateway   = "10.0.2.2"
	UserDNS       = "10.0.2.3"
	UserMTU       = 1500
)

// openUser makes the socket pair of a user-mode network: one frame per
// message in each direction.
func openUser(s Spec) (*Device, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, wrap(s, fmt.Errorf("socketpair: %w", err))
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	unix.SetNonblock(fds[1], true)
	info := abi.Device{
		Kind: abi.NetDevice, Name: s.Name, MAC: randomMAC().String(), MTU: UserMTU,
		IPv4: UserGuestIPv4, IPv4Gateway: UserGateway, DNS: UserDNS,
	}
	return &Device{
		Spec: s,
		File: os.NewFile(uintptr(fds[1]), "usernet:guest"),
		Peer: os.NewFile(uintptr(fds[0]), "usernet:monitor"),
		Info: info,
	}, nil
}
