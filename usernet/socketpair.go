package usernet

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// socketBuffer is the buffer size asked for each end of a Socketpair: a
// few thousand frames in flight, so that neither side waits on the other
// at every frame. Without CAP_NET_ADMIN the kernel caps it at
// net.core.wmem_max and rmem_max.
const socketBuffer = 4 << 20

// Socketpair returns a connected AF_UNIX SOCK_SEQPACKET pair for a link:
// the monitor's end for Start, and the guest's end for the image's NIC
// (the descriptor it inherits, in spt mode). Both are close-on-exec; the
// guest's end is left in blocking mode, for whoever gets it to choose.
func Socketpair() (monitor, guest *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("usernet: socketpair: %w", err)
	}
	for _, fd := range fds {
		for _, opt := range [][2]int{
			{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF},
			{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF},
		} {
			// The FORCE variant works with CAP_NET_ADMIN only.
			if unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt[0], socketBuffer) != nil {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt[1], socketBuffer)
			}
		}
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("usernet: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "usernet-monitor"), os.NewFile(uintptr(fds[1]), "usernet-guest"), nil
}
