package tarfs

import (
	"errors"
	"fmt"
	"io"
)

// DefaultSectorSize is the unit of the reads of a device that does not say
// its own: tar's block.
const DefaultSectorSize = 512

// maxSectorSize bounds the sector size a device may claim.
const maxSectorSize = 64 << 10

// aligned serves reads at any offset and of any length with reads of the
// device in whole sectors at sector-aligned offsets, as package block's
// devices require. A device whose size is not a whole number of sectors
// (a bytes.Reader, say) has its last sector read short.
type aligned struct {
	dev    io.ReaderAt
	sector int64
	size   int64
}

func newAligned(dev io.ReaderAt, size int64) (*aligned, error) {
	sector := int64(DefaultSectorSize)
	if s, ok := dev.(interface{ SectorSize() int }); ok {
		sector = int64(s.SectorSize())
	}
	if sector <= 0 || sector > maxSectorSize {
		return nil, fmt.Errorf("tarfs: the device has %d-byte sectors", sector)
	}
	return &aligned{dev: dev, sector: sector, size: size}, nil
}

// ReadAt reads len(p) bytes at off, or fails: io.EOF when the range goes
// past the device's size.
func (a *aligned) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= a.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if rest := a.size - off; int64(want) > rest {
		p = p[:rest]
	}
	n := 0
	var sector []byte
	for n < len(p) {
		pos := off + int64(n)
		if head := pos % a.sector; head == 0 && int64(len(p)-n) >= a.sector {
			// Whole sectors, straight into p.
			k := (int64(len(p)-n) / a.sector) * a.sector
			if err := a.read(p[n:n+int(k)], pos); err != nil {
				return n, err
			}
			n += int(k)
			continue
		}
		// A sector only partly wanted: through a buffer.
		if sector == nil {
			sector = make([]byte, a.sector)
		}
		start := pos - pos%a.sector
		s := sector[:min(a.sector, a.size-start)]
		if err := a.read(s, start); err != nil {
			return n, err
		}
		n += copy(p[n:], s[pos-start:])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// read fills p from the device at off, which lies on the device.
func (a *aligned) read(p []byte, off int64) error {
	n, err := a.dev.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || err == io.EOF:
		return fmt.Errorf("the device ended at byte %d, before its size (%d bytes): %w", off+int64(n), a.size, io.ErrUnexpectedEOF)
	}
	return err
}

// stream reads the device from the start for archive/tar, which skips the
// data of the entries with Seek: headers are read, contents are not. It
// reads ahead, as headers come 512 bytes at a time and each read of a
// device is a VM exit in hvt.
type stream struct {
	dev    *aligned
	pos    int64 // the next byte to read
	buf    []byte
	bufOff int64 // of buf[0]
}

func (s *stream) size() int64 { return s.dev.size }

func (s *stream) Read(p []byte) (int, error) {
	if s.pos >= s.dev.size {
		return 0, io.EOF
	}
	if s.pos < s.bufOff || s.pos >= s.bufOff+int64(len(s.buf)) {
		n := min(readAhead, s.dev.size-s.pos)
		if s.buf == nil {
			s.buf = make([]byte, readAhead)
		}
		s.buf = s.buf[:n]
		if _, err := s.dev.ReadAt(s.buf, s.pos); err != nil {
			s.buf = s.buf[:0]
			return 0, err
		}
		s.bufOff = s.pos
	}
	n := copy(p, s.buf[s.pos-s.bufOff:])
	s.pos += int64(n)
	return n, nil
}

func (s *stream) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.dev.size
	default:
		return 0, errors.New("bad whence")
	}
	if offset < 0 {
		return 0, errors.New("negative position")
	}
	s.pos = offset
	return offset, nil
}
