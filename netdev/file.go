package netdev

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// fileDevice is a NIC behind a descriptor that reads and writes one frame
// per call: a TAP, a SOCK_SEQPACKET end, or the hvt monitor's device
// descriptor. Waiting is done by Go's poller, so a reader blocks no
// thread.
type fileDevice struct {
	info   Info
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

func openFile(d abi.Device, info Info) (*fileDevice, error) {
	// The poller needs a non-blocking descriptor.
	if err := unix.SetNonblock(d.FD, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(d.FD), "netdev:"+d.Name)
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &fileDevice{info: info, f: f, rc: rc}, nil
}

func (d *fileDevice) Name() string          { return d.info.Name }
func (d *fileDevice) MAC() net.HardwareAddr { return d.info.MAC }
func (d *fileDevice) MTU() int              { return d.info.MTU }
func (d *fileDevice) Vnet() bool            { return d.info.Vnet }
func (d *fileDevice) FrameLen() int         { return d.info.FrameLen() }

func (d *fileDevice) Read(frames [][]byte, sizes []int) (int, error) {
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(frames) {
			m, err := unix.Read(int(fd), frames[n])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return n > 0 // nothing yet: wait for the poller
			case err != nil:
				rerr = err
				return true
			case m == 0 && n == 0:
				rerr = ErrClosed
				return true
			}
			sizes[n] = m
			n++
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if d.closed.Load() {
		return 0, ErrClosed
	}
	return 0, closedOr(err, rerr)
}

func (d *fileDevice) Write(frames [][]byte) (int, error) {
	n := 0
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		for n < len(frames) {
			_, err := unix.Write(int(fd), frames[n])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false // queue full: wait until it drains
			case err == unix.ENOBUFS || err == unix.EMSGSIZE || err == unix.EIO:
				// Dropped, as a NIC drops what it cannot send.
			case err != nil:
				werr = err
				return true
			}
			n++
		}
		return true
	})
	if n == len(frames) {
		return n, nil
	}
	if d.closed.Load() {
		return n, ErrClosed
	}
	return n, closedOr(err, werr)
}

func (d *fileDevice) Close() error {
	d.closed.Store(true)
	return d.f.Close()
}

func closedOr(errs ...error) error {
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrClosed) || errors.Is(err, ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}
