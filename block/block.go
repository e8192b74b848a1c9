// Package block is the guest side of a morgana block device: a disk that
// the monitor attached by name (`morgana run --block storage=disk.img`),
// read and written in whole sectors.
//
// In hvt the monitor serves the requests, checking each against the
// device; in spt and unix the device is the host file itself. Either way
// the same checks run here first, so a misaligned or out-of-range request
// fails the same in every mode, and nothing past the end of a disk image
// is ever written.
package block

import (
	"errors"
	"fmt"
	"os"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/device"
)

// Errors of requests the device refuses.
var (
	ErrReadOnly   = errors.New("device is read-only")
	ErrMisaligned = errors.New("offset or length is not a multiple of the sector size")
	ErrOutOfRange = errors.New("request goes past the end of the device")
	ErrClosed     = errors.New("device is closed")
)

// Device is an attached block device. Its methods are safe for concurrent
// use; requests at different offsets proceed in parallel.
type Device struct {
	f    *os.File
	info abi.Device
}

// Open returns the block device attached under name.
func Open(name string) (*Device, error) {
	info, err := device.Lookup(abi.BlockDevice, name)
	if err != nil {
		return nil, fmt.Errorf("block: open %s: %w", name, err)
	}
	if info.SectorSize <= 0 || info.Size <= 0 || info.Size%int64(info.SectorSize) != 0 {
		return nil, fmt.Errorf("block: open %s: bad geometry (%d bytes, %d-byte sectors)", name, info.Size, info.SectorSize)
	}
	return &Device{f: os.NewFile(uintptr(info.FD), "block:"+name), info: info}, nil
}

// Name is the name the device was attached under.
func (d *Device) Name() string { return d.info.Name }

// Size is the size of the device in bytes.
func (d *Device) Size() int64 { return d.info.Size }

// SectorSize is the unit of every request, in bytes.
func (d *Device) SectorSize() int { return d.info.SectorSize }

// ReadOnly reports whether the device refuses writes.
func (d *Device) ReadOnly() bool { return d.info.ReadOnly }

// ReadAt reads len(p) bytes at off; both must be multiples of the sector
// size and the range must lie on the device. It implements io.ReaderAt.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	if err := d.check("read", p, off); err != nil {
		return 0, err
	}
	n, err := d.f.ReadAt(p, off)
	if err != nil {
		return n, d.opError("read", off, err)
	}
	return n, nil
}

// WriteAt writes p at off, with the same rules as ReadAt. The data is
// with the host when WriteAt returns (it survives the monitor being
// killed); Flush makes it durable on the host's disk. It implements
// io.WriterAt.
func (d *Device) WriteAt(p []byte, off int64) (int, error) {
	if d.info.ReadOnly {
		return 0, d.opError("write", off, ErrReadOnly)
	}
	if err := d.check("write", p, off); err != nil {
		return 0, err
	}
	n, err := d.f.WriteAt(p, off)
	if err != nil {
		return n, d.opError("write", off, err)
	}
	return n, nil
}

// Flush makes every completed write durable (fsync on the host).
func (d *Device) Flush() error {
	if d.info.ReadOnly {
		return nil
	}
	if err := d.f.Sync(); err != nil {
		return d.opError("flush", 0, err)
	}
	return nil
}

// Close releases the device.
func (d *Device) Close() error { return d.f.Close() }

func (d *Device) check(op string, p []byte, off int64) error {
	ss := int64(d.info.SectorSize)
	switch {
	case off%ss != 0 || int64(len(p))%ss != 0:
		return d.opError(op, off, ErrMisaligned)
	case off < 0 || off > d.info.Size || int64(len(p)) > d.info.Size-off:
		return d.opError(op, off, ErrOutOfRange)
	}
	return nil
}

func (d *Device) opError(op string, off int64, err error) error {
	if errors.Is(err, os.ErrClosed) {
		err = ErrClosed
	}
	return &Error{Op: op, Device: d.info.Name, Offset: off, Err: err}
}

// Error is the error of a failed request.
type Error struct {
	Op     string // read, write, flush
	Device string
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("block %s: %s at %d: %v", e.Device, e.Op, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
