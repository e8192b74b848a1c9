package hvt

import (
	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// blockDev is a block device: a disk image on the host, read and written
// in whole sectors with pread64 and pwrite64, straight between the host
// file and guest memory.
type blockDev struct {
	fd   int // the host file
	info abi.Device
}

func (b *blockDev) read(*thread, uint64, uint64, bool) (uint64, error)  { return 0, unix.EINVAL }
func (b *blockDev) write(*thread, uint64, uint64, bool) (uint64, error) { return 0, unix.EINVAL }
func (b *blockDev) ready() (uint32, uint64)                             { return unix.EPOLLIN | unix.EPOLLOUT, 0 }

// maxBlockIO bounds one request, as the kernel bounds one read to
// MAX_RW_COUNT.
const maxBlockIO = 1 << 30

// check refuses a request that is not whole sectors inside the device.
func (b *blockDev) check(n, off uint64) error {
	ss := uint64(b.info.SectorSize)
	size := uint64(b.info.Size)
	if n%ss != 0 || off%ss != 0 || n > maxBlockIO || off > size || n > size-off {
		return unix.EINVAL
	}
	return nil
}

func blockOf(t *thread, n uint64) (*blockDev, error) {
	d, err := t.vm.files.get(n)
	if err != nil {
		return nil, err
	}
	b, ok := d.f.(*blockDev)
	if !ok {
		return nil, unix.EBADF // no files but devices
	}
	return b, nil
}

// guestIOVs returns host views of the guest's [va, va+n), checked for
// the access.
func guestIOVs(t *thread, va, n uint64, write bool) ([][]byte, error) {
	var iovs [][]byte
	err := t.vm.as.Each(va, n, write, func(b []byte) error {
		if k := len(iovs); k > 0 {
			p := iovs[k-1]
			if cap(p)-len(p) >= len(b) && &p[:len(p)+1][len(p)] == &b[0] {
				iovs[k-1] = p[:len(p)+len(b)] // physically contiguous
				return nil
			}
		}
		iovs = append(iovs, b)
		return nil
	})
	return iovs, err
}

func sysPread64(t *thread, a *args) (uint64, outcome) {
	b, err := blockOf(t, a[0])
	if err != nil {
		return errno(err), resume
	}
	return ret(b.transfer(t, a[1], a[2], a[3], false))
}

func sysPwrite64(t *thread, a *args) (uint64, outcome) {
	b, err := blockOf(t, a[0])
	if err != nil {
		return errno(err), resume
	}
	if b.info.ReadOnly {
		return errno(unix.EBADF), resume
	}
	return ret(b.transfer(t, a[1], a[2], a[3], true))
}

// transfer moves n bytes between guest memory at va and the device at
// off: pwrite when toDevice, else pread.
func (b *blockDev) transfer(t *thread, va, n, off uint64, toDevice bool) (uint64, error) {
	if err := b.check(n, off); err != nil {
		return 0, err
	}
	iovs, err := guestIOVs(t, va, n, !toDevice)
	if err != nil {
		return 0, err
	}
	done := uint64(0)
	for done < n {
		var k int
		if toDevice {
			k, err = unix.Pwritev(b.fd, iovs, int64(off+done))
		} else {
			k, err = unix.Preadv(b.fd, iovs, int64(off+done))
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			if err == unix.ENOSPC || err == unix.EDQUOT {
				// The host's disk is full (the image is sparse): the guest's
				// error as in spt, where it writes the file itself.
				return 0, err
			}
			return 0, unix.EIO
		}
		if k == 0 {
			break // the file shrank under us: a short read, as Linux gives
		}
		done += uint64(k)
		iovs = advance(iovs, k)
	}
	return done, nil
}

// advance drops the first k bytes of iovs.
func advance(iovs [][]byte, k int) [][]byte {
	for k > 0 && len(iovs) > 0 {
		if k < len(iovs[0]) {
			iovs[0] = iovs[0][k:]
			return iovs
		}
		k -= len(iovs[0])
		iovs = iovs[1:]
	}
	return iovs
}

func sysFsync(t *thread, a *args) (uint64, outcome) {
	b, err := blockOf(t, a[0])
	if err == unix.EBADF {
		if _, err2 := t.vm.files.get(a[0]); err2 == nil {
			return errno(unix.EINVAL), resume // open, but not a disk
		}
	}
	if err != nil {
		return errno(err), resume
	}
	if b.info.ReadOnly {
		return 0, resume
	}
	for {
		err = unix.Fdatasync(b.fd)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return errno(unix.EIO), resume
	}
	return 0, resume
}
