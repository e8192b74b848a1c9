package guestmem

import (
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// PageSize is the size of a guest page and frame.
const PageSize = 4096

// Physical is the guest-physical address space [0, Size): one private,
// anonymous host mapping made with MAP_NORESERVE, so the host commits a page
// only when the guest first touches it.
type Physical struct {
	mem    []byte
	mu     sync.Mutex
	frames frameAllocator
}

// NewPhysical maps size bytes of guest-physical memory. The first reserved
// bytes are kept out of the frame pool for the monitor's own structures.
func NewPhysical(size, reserved uint64) (*Physical, error) {
	if size%PageSize != 0 || reserved%PageSize != 0 || reserved >= size {
		return nil, fmt.Errorf("guest memory: bad size %d (reserved %d)", size, reserved)
	}
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("guest memory: mmap %d bytes: %w", size, err)
	}
	first := reserved / PageSize
	return &Physical{mem: mem, frames: newFrameAllocator(first, size/PageSize-first)}, nil
}

// Close unmaps the memory.
func (p *Physical) Close() error { return unix.Munmap(p.mem) }

// Bytes returns the host view of all guest-physical memory.
func (p *Physical) Bytes() []byte { return p.mem }

// Size returns the size of guest-physical memory in bytes.
func (p *Physical) Size() uint64 { return uint64(len(p.mem)) }

// Page returns the host view of the frame at gpa.
func (p *Physical) Page(gpa uint64) []byte { return p.mem[gpa : gpa+PageSize : gpa+PageSize] }

// Used returns the bytes of frames in use.
func (p *Physical) Used() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames.used * PageSize
}

// Available returns how many frames can still be allocated.
func (p *Physical) Available() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames.available()
}

// Alloc takes one zeroed frame and returns its guest-physical address.
func (p *Physical) Alloc() (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fr, ok := p.frames.alloc()
	if !ok {
		return 0, unix.ENOMEM
	}
	return fr * PageSize, nil
}

// Free discards the contents of the frames at gpas and returns them to the
// pool. Discarding is what makes KVM forget every translation to them.
func (p *Physical) Free(gpas []uint64) {
	p.Discard(gpas)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, gpa := range gpas {
		p.frames.release(gpa / PageSize)
	}
}

// Discard gives the host memory behind the frames back to the host; the
// frames read as zero afterwards. It sorts gpas.
func (p *Physical) Discard(gpas []uint64) {
	slices.Sort(gpas)
	for i := 0; i < len(gpas); {
		j := i + 1
		for j < len(gpas) && gpas[j] == gpas[j-1]+PageSize {
			j++
		}
		start := gpas[i]
		end := gpas[j-1] + PageSize
		// MADV_DONTNEED on a private anonymous mapping cannot fail for
		// a valid range; the range is ours by construction.
		_ = unix.Madvise(p.mem[start:end], unix.MADV_DONTNEED)
		i = j
	}
}
