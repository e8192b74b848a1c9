package certstore

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// Device is the raw storage under a Store: a block device, or a file
// standing in for one. Reads and writes are whole sectors at sector
// offsets. A Device that also has SectorSize() int is addressed in units of
// that size (at least 512 bytes); one with Flush() error or Sync() error is
// flushed after each write, so that a Put that returned survives a crash of
// the host. *block.Device satisfies it as it is.
type Device interface {
	io.ReaderAt
	io.WriterAt
	Size() int64
}

// File is a Device over a host file: what unix mode and tests use where an
// image has a block device.
type File struct {
	f    *os.File
	size int64
}

// OpenFile opens the file at path as a device, creating it with the given
// size when it does not exist or is empty. An existing file keeps its size.
func OpenFile(path string, size int64) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("certstore: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("certstore: %w", err)
	}
	if fi.Size() == 0 {
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, fmt.Errorf("certstore: size %s: %w", path, err)
		}
	} else {
		size = fi.Size()
	}
	return &File{f: f, size: size}, nil
}

func (d *File) ReadAt(p []byte, off int64) (int, error)  { return d.f.ReadAt(p, off) }
func (d *File) WriteAt(p []byte, off int64) (int, error) { return d.f.WriteAt(p, off) }
func (d *File) Size() int64                              { return d.size }
func (d *File) Flush() error                             { return d.f.Sync() }
func (d *File) Close() error                             { return d.f.Close() }

// Mem is a Device in memory, for tests. Its methods are safe for
// concurrent use.
type Mem struct {
	mu   sync.Mutex
	data []byte
}

// NewMem returns a zeroed in-memory device of size bytes.
func NewMem(size int) *Mem { return &Mem{data: make([]byte, size)} }

// Bytes returns a copy of the device's contents.
func (m *Mem) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data...)
}

func (m *Mem) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off > int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *Mem) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(m.data)) {
		return 0, fmt.Errorf("write of %d bytes at %d: past the end of a %d-byte device", len(p), off, len(m.data))
	}
	return copy(m.data[off:], p), nil
}

func (m *Mem) Size() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.data))
}
