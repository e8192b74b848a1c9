package guestmem

import (
	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

// MmapFlags selects how Mmap places a mapping.
type MmapFlags uint8

const (
	// Fixed places the mapping exactly at addr, replacing what is there.
	Fixed MmapFlags = 1 << iota
	// NoReplace places it exactly at addr only if the range is free.
	NoReplace
)

func pageRange(addr, length uint64) (start, end uint64, err error) {
	if addr%PageSize != 0 || length == 0 {
		return 0, 0, unix.EINVAL
	}
	end = addr + (length+PageSize-1)&^(PageSize-1)
	if end < addr || end > UserEnd {
		return 0, 0, unix.ENOMEM
	}
	return addr, end, nil
}

// EagerLimit is the largest mapping whose frames Mmap binds at once.
// Smaller mappings (the Go heap grows in 4 MiB steps) are committed against
// the memory limit when mapped, so that running out is an ENOMEM the
// runtime reports itself, and cost no page faults; larger ones, mostly
// sparse tables, get frames page by page as the guest touches them.
const EagerLimit = 4 << 20

// Mmap maps length bytes of anonymous memory, as mmap(2) with
// MAP_PRIVATE|MAP_ANONYMOUS does. A hint is honoured when the range is
// free. PROT_NONE only reserves addresses. New executable memory is
// refused: the image's text is the only code.
func (as *AddressSpace) Mmap(addr, length uint64, prot Prot, flags MmapFlags) (uint64, error) {
	if prot&ProtExec != 0 {
		return 0, unix.EACCES
	}
	if length == 0 || length > UserEnd {
		return 0, unix.EINVAL
	}
	size := (length + PageSize - 1) &^ (PageSize - 1)
	as.mu.Lock()
	defer as.mu.Unlock()
	var start uint64
	switch {
	case flags&(Fixed|NoReplace) != 0:
		s, end, err := pageRange(addr, size)
		if err != nil {
			return 0, err
		}
		if s < UserStart {
			return 0, unix.EPERM
		}
		if !as.vmas.isFree(s, end) {
			if flags&NoReplace != 0 {
				return 0, unix.EEXIST
			}
			if err := as.unmapLocked(s, end); err != nil {
				return 0, err
			}
		}
		start = s
	default:
		hint := addr &^ (PageSize - 1)
		if hint >= UserStart && hint+size <= UserEnd && hint+size > hint && as.vmas.isFree(hint, hint+size) {
			start = hint
		} else {
			s, ok := as.vmas.gapBelow(as.mmapTop, UserStart, size)
			if !ok {
				return 0, unix.ENOMEM
			}
			start = s
		}
	}
	end := start + size
	if prot != ProtNone && size <= EagerLimit {
		if err := as.bind(start, end, prot); err != nil {
			as.unbind(start, end)
			return 0, err
		}
	}
	as.vmas.insert(VMA{Start: start, End: end, Prot: prot})
	return start, nil
}

// Munmap removes the mappings in [addr, addr+length).
func (as *AddressSpace) Munmap(addr, length uint64) error {
	start, end, err := pageRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.unmapLocked(start, end)
}

func (as *AddressSpace) unmapLocked(start, end uint64) error {
	i, j := as.vmas.span(start, end)
	for _, v := range as.vmas.list[i:j] {
		if v.Locked {
			return unix.EINVAL
		}
	}
	as.unbind(start, end)
	as.vmas.remove(start, end)
	return nil
}

// Mprotect changes the protection of [addr, addr+length), which must be
// mapped. Adding execute permission is refused (W^X, and no new code).
func (as *AddressSpace) Mprotect(addr, length uint64, prot Prot) error {
	start, end, err := pageRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	vs, err := as.mapped(start, end, unix.EACCES)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if prot&ProtExec != 0 && (v.Prot&ProtExec == 0 || prot&ProtWrite != 0) {
			return unix.EACCES
		}
	}
	var freed []uint64
	for va := start; va < end; va += PageSize {
		pte := as.pt.Lookup(va)
		if pte&x86.PTEPresent == 0 {
			if prot != ProtNone {
				if err := as.bind(va, va+PageSize, prot); err != nil {
					as.phys.Free(freed)
					return err
				}
			}
			continue
		}
		old := pte & x86.PTEAddr
		next := leafPTE(old, prot)
		if grantsLess(pte, next) {
			// Move the page so no cached translation can outlive the
			// access it granted.
			gpa, err := as.phys.Alloc()
			if err != nil {
				as.phys.Free(freed)
				return err
			}
			copy(as.phys.Page(gpa), as.phys.Page(old))
			next = leafPTE(gpa, prot)
			freed = append(freed, old)
		}
		as.pt.set(va, next)
	}
	as.phys.Free(freed)
	name := vs[0].Name
	as.vmas.remove(start, end)
	as.vmas.insert(VMA{Start: start, End: end, Prot: prot, Name: name})
	return nil
}

// mapped returns the areas covering [start, end): ENOMEM if there is a
// hole, and lockedErr if the monitor owns any of them.
func (as *AddressSpace) mapped(start, end uint64, lockedErr error) ([]VMA, error) {
	if !as.vmas.covered(start, end) {
		return nil, unix.ENOMEM
	}
	i, j := as.vmas.span(start, end)
	for _, v := range as.vmas.list[i:j] {
		if v.Locked {
			return nil, lockedErr
		}
	}
	return as.vmas.list[i:j], nil
}

// DontNeed gives the memory behind [addr, addr+length) back, as
// MADV_DONTNEED does: the frames return to the pool and their memory to the
// host; the pages stay mapped, read as zero and get new frames when touched.
func (as *AddressSpace) DontNeed(addr, length uint64) error {
	start, end, err := pageRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if _, err := as.mapped(start, end, unix.EINVAL); err != nil {
		return err
	}
	as.unbind(start, end)
	return nil
}

// faultAround is how many pages around a faulting one Fault binds at once.
const faultAround = 16

// Fault gives frames to the page at va and its untouched neighbours when
// the guest's access is allowed by the mapping but the page has no frame
// yet. It reports whether it did; ENOMEM means the memory limit is reached.
func (as *AddressSpace) Fault(va uint64, write, exec bool) (bool, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	v, ok := as.vmas.find(va)
	if !ok || v.Prot == ProtNone || (write && v.Prot&ProtWrite == 0) || (exec && v.Prot&ProtExec == 0) {
		return false, nil
	}
	page := va &^ (PageSize - 1)
	if as.pt.Lookup(page)&x86.PTEPresent != 0 {
		return false, nil
	}
	lo := max(page&^(faultAround*PageSize-1), v.Start)
	hi := min(lo+faultAround*PageSize, v.End)
	for p := lo; p < hi; p += PageSize {
		if as.pt.Lookup(p)&x86.PTEPresent != 0 {
			continue
		}
		if err := as.bind(p, p+PageSize, v.Prot); err != nil {
			if p <= page {
				return false, err
			}
			break
		}
	}
	return true, nil
}
