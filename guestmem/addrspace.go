package guestmem

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

// User address-space bounds.
const (
	// UserStart is the lowest address a mapping may use; the first
	// pages stay unmapped so that nil dereferences fault.
	UserStart = 0x10000
	// UserEnd is the end of the lower canonical half.
	UserEnd = 0x7fff_ffff_f000
)

// AddressSpace is the guest's single address space. Its methods are safe
// for concurrent use by the vCPU threads.
type AddressSpace struct {
	mu      sync.RWMutex
	phys    *Physical
	pt      *PageTable
	vmas    vmaSet
	mmapTop uint64
}

// NewAddressSpace makes an empty address space over phys; mmaps without a
// usable hint are placed top-down below mmapTop.
func NewAddressSpace(phys *Physical, mmapTop uint64) (*AddressSpace, error) {
	pt, err := NewPageTable(phys)
	if err != nil {
		return nil, err
	}
	return &AddressSpace{phys: phys, pt: pt, mmapTop: mmapTop}, nil
}

// Root returns the page-table root for CR3.
func (as *AddressSpace) Root() uint64 { return as.pt.Root() }

// Physical returns the guest-physical memory.
func (as *AddressSpace) Physical() *Physical { return as.phys }

// VMAs returns a copy of the mapped areas.
func (as *AddressSpace) VMAs() []VMA {
	as.mu.RLock()
	defer as.mu.RUnlock()
	return append([]VMA(nil), as.vmas.list...)
}

// Find returns the area containing va.
func (as *AddressSpace) Find(va uint64) (VMA, bool) {
	as.mu.RLock()
	defer as.mu.RUnlock()
	return as.vmas.find(va)
}

// leafPTE is the entry that maps a frame with prot. A bound PROT_NONE page
// stays present but supervisor-only, so it keeps its contents.
func leafPTE(gpa uint64, prot Prot) uint64 {
	pte := gpa | x86.PTEPresent | x86.PTEAccessed | x86.PTEDirty
	if prot != ProtNone {
		pte |= x86.PTEUser
	}
	if prot&ProtWrite != 0 {
		pte |= x86.PTEWrite
	}
	if prot&ProtExec == 0 {
		pte |= x86.PTENoExec
	}
	return pte
}

// grantsLess reports whether next takes away any access that prev allowed.
func grantsLess(prev, next uint64) bool {
	const access = x86.PTEPresent | x86.PTEUser | x86.PTEWrite
	return prev&access&^next != 0 || next&x86.PTENoExec&^prev != 0
}

// bind gives every page of [start, end) a fresh frame mapped with prot.
func (as *AddressSpace) bind(start, end uint64, prot Prot) error {
	need := (end-start)/PageSize + tablesNeeded(start, end)
	if as.phys.Available() < need {
		return unix.ENOMEM
	}
	for va := start; va < end; va += PageSize {
		gpa, err := as.phys.Alloc()
		if err != nil {
			return err
		}
		if !as.pt.set(va, leafPTE(gpa, prot)) {
			as.phys.Free([]uint64{gpa})
			return unix.ENOMEM
		}
	}
	return nil
}

// walk calls fn for every present leaf entry in [start, end), skipping
// whole tables that do not exist.
func (as *AddressSpace) walk(start, end uint64, fn func(va uint64, pte *uint64)) {
	for va := start; va < end; {
		e := as.pt.entry(va, false)
		if e == nil {
			va = (va + 1<<21) &^ (1<<21 - 1) // no table: skip to the next 2 MiB
			continue
		}
		if *e&x86.PTEPresent != 0 {
			fn(va, e)
		}
		va += PageSize
	}
}

// unbind clears the entries of [start, end) and frees their frames.
func (as *AddressSpace) unbind(start, end uint64) {
	var freed []uint64
	as.walk(start, end, func(va uint64, pte *uint64) {
		freed = append(freed, *pte&x86.PTEAddr)
		*pte = 0
	})
	as.phys.Free(freed)
}

// MapFixed maps [start, end) with prot for the monitor's own use (stack,
// vDSO, stubs), binding frames at once.
func (as *AddressSpace) MapFixed(start, end uint64, prot Prot, name string, locked bool) error {
	return as.mapFixed(start, end, end, prot, name, locked)
}

// MapSegment maps an image segment [start, end) with prot. The pages before
// fileEnd, which hold the file's bytes, get frames at once; the rest, the
// segment's zero-filled tail (BSS), get them when first touched, as Linux's
// demand-zero pages do: a program that reserves much static memory and
// touches little of it (any Go program with crypto/rand has a 32 MiB BSS
// array since Go 1.26) does not pay for it against the memory limit.
func (as *AddressSpace) MapSegment(start, fileEnd, end uint64, prot Prot, name string) error {
	if fileEnd < start || fileEnd > end || fileEnd%PageSize != 0 {
		return unix.EINVAL
	}
	return as.mapFixed(start, fileEnd, end, prot, name, false)
}

// mapFixed maps [start, end), binding frames to [start, bound) at once.
func (as *AddressSpace) mapFixed(start, bound, end uint64, prot Prot, name string, locked bool) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if start%PageSize != 0 || end%PageSize != 0 || start >= end || end > UserEnd {
		return unix.EINVAL
	}
	if !as.vmas.isFree(start, end) {
		return unix.EEXIST
	}
	if err := as.bind(start, bound, prot); err != nil {
		as.unbind(start, bound)
		return err
	}
	as.vmas.insert(VMA{Start: start, End: end, Prot: prot, Name: name, Locked: locked})
	return nil
}

// MapKernel maps one supervisor page at va (outside the user half) onto
// the frame at gpa.
func (as *AddressSpace) MapKernel(va, gpa uint64, writable bool) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	pte := gpa | x86.PTEPresent | x86.PTEAccessed | x86.PTEDirty
	if writable {
		pte |= x86.PTEWrite | x86.PTENoExec
	}
	if !as.pt.set(va, pte) {
		return unix.ENOMEM
	}
	return nil
}

// MapDevice maps length bytes of memory that the guest shares with the
// monitor (a device's rings) at the highest free range below the mmap
// area's top, binding frames at once. The area is locked: the guest can
// neither unmap nor change it, so its frames stay the device's for the
// life of the VM. It returns the guest address and the host's view of
// each page.
func (as *AddressSpace) MapDevice(length uint64, name string) (uint64, [][]byte, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if length == 0 || length%PageSize != 0 {
		return 0, nil, unix.EINVAL
	}
	start, ok := as.vmas.gapBelow(as.mmapTop, UserStart, length)
	if !ok {
		return 0, nil, unix.ENOMEM
	}
	end := start + length
	prot := ProtRead | ProtWrite
	if err := as.bind(start, end, prot); err != nil {
		as.unbind(start, end)
		return 0, nil, err
	}
	as.vmas.insert(VMA{Start: start, End: end, Prot: prot, Name: name, Locked: true})
	pages := make([][]byte, 0, length/PageSize)
	for va := start; va < end; va += PageSize {
		gpa := *as.pt.entry(va, false) & x86.PTEAddr
		pages = append(pages, as.phys.Page(gpa))
	}
	return start, pages, nil
}
