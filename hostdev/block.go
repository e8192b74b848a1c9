package hostdev

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// SectorSize is the sector size of every block device.
const SectorSize = 512

// openBlock opens a disk image. It is locked for the life of the monitor
// (shared when read-only, exclusive otherwise) so two unikernels cannot
// write the same disk, as QEMU and Firecracker lock theirs.
func openBlock(s Spec) (*Device, error) {
	flags := os.O_RDWR
	if s.ReadOnly {
		flags = os.O_RDONLY
	}
	// O_NONBLOCK: opening a FIFO read-only would otherwise wait for a
	// writer; it is refused below, and the flag cleared for the guest.
	f, err := os.OpenFile(s.Path, flags|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, wrap(s, fmt.Errorf("no such file: create one with `truncate -s 64M %s`", s.Path))
		}
		return nil, wrap(s, err)
	}
	fail := func(err error) (*Device, error) {
		f.Close()
		return nil, wrap(s, err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if st.IsDir() {
		return fail(fmt.Errorf("%s is a directory", s.Path))
	}
	if t := st.Mode().Type(); t != 0 && t != os.ModeDevice { // a regular file or a block device
		return fail(fmt.Errorf("%s is not a regular file or a block device", s.Path))
	}
	if err := unix.SetNonblock(int(f.Fd()), false); err != nil {
		return fail(err)
	}
	lock := unix.LOCK_EX
	if s.ReadOnly {
		lock = unix.LOCK_SH
	}
	if err := unix.Flock(int(f.Fd()), lock|unix.LOCK_NB); err != nil {
		return fail(fmt.Errorf("%s is in use by another unikernel (locked)", s.Path))
	}
	size, err := f.Seek(0, io.SeekEnd) // works for block special files too
	if err != nil {
		return fail(err)
	}
	if size == 0 || size%SectorSize != 0 {
		return fail(fmt.Errorf("size %d bytes is not a positive multiple of the %d-byte sector", size, SectorSize))
	}
	info := abi.Device{Kind: abi.BlockDevice, Name: s.Name, Size: size, SectorSize: SectorSize, ReadOnly: s.ReadOnly}
	return &Device{Spec: s, File: f, Info: info}, nil
}
