package hostdev

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// UserMTU is the MTU of a user-mode network's link: the largest, as
// slirp4netns defaults to. The link is a socket pair, not a wire, and a
// 64 KiB TCP segment is one frame through both netstacks instead of 45:
// through -p, hvt went from 11-25 to 120 MB/s down and 224 MB/s up. Such
// frames do not fit the rings' slots, so in hvt they take one exit each.
const UserMTU = 65520

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
	// The addresses are the user-mode network's to give (the caller).
	info := abi.Device{Kind: abi.NetDevice, Name: s.Name, MAC: randomMAC().String(), MTU: UserMTU}
	return &Device{
		Spec: s,
		File: os.NewFile(uintptr(fds[1]), "usernet:guest"),
		Peer: os.NewFile(uintptr(fds[0]), "usernet:monitor"),
		Info: info,
	}, nil
}
