package guestmem

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

// userPage returns the guest-physical address of va if the guest itself
// could make the access, and EFAULT otherwise: the monitor never touches
// memory on the guest's behalf that the guest could not.
func (as *AddressSpace) userPage(va uint64, write bool) (uint64, error) {
	if va >= UserEnd {
		return 0, unix.EFAULT
	}
	pte := as.pt.Lookup(va &^ (PageSize - 1))
	if pte&x86.PTEPresent == 0 || pte&x86.PTEUser == 0 || (write && pte&x86.PTEWrite == 0) {
		return 0, unix.EFAULT
	}
	return pte&x86.PTEAddr | va&(PageSize-1), nil
}

// touch is userPage for the monitor's accesses on the guest's behalf: a
// page the mapping allows but that has no frame yet gets one, as the
// guest's own touch would give it. The caller holds the read lock, which
// touch may drop and take again.
func (as *AddressSpace) touch(va uint64, write bool) (uint64, error) {
	gpa, err := as.userPage(va, write)
	if err == nil {
		return gpa, nil
	}
	as.mu.RUnlock()
	ok, ferr := as.Fault(va, write, false)
	as.mu.RLock()
	if ferr != nil {
		return 0, ferr
	}
	if !ok {
		return 0, err
	}
	return as.userPage(va, write)
}

// Each calls fn on the host views of the guest's bytes [va, va+n), one piece
// per page, after checking the guest may read (or write) them all.
func (as *AddressSpace) Each(va, n uint64, write bool, fn func(b []byte) error) error {
	if va+n < va {
		return unix.EFAULT
	}
	as.mu.RLock()
	defer as.mu.RUnlock()
	for off := uint64(0); off < n; {
		gpa, err := as.touch(va+off, write)
		if err != nil {
			return err
		}
		k := min(n-off, PageSize-(gpa&(PageSize-1)))
		if err := fn(as.phys.mem[gpa : gpa+k]); err != nil {
			return err
		}
		off += k
	}
	return nil
}

// CopyIn reads the guest's bytes at va into dst.
func (as *AddressSpace) CopyIn(dst []byte, va uint64) error {
	return as.Each(va, uint64(len(dst)), false, func(b []byte) error {
		dst = dst[copy(dst, b):]
		return nil
	})
}

// CopyOut writes src to the guest's memory at va.
func (as *AddressSpace) CopyOut(va uint64, src []byte) error {
	return as.Each(va, uint64(len(src)), true, func(b []byte) error {
		src = src[copy(b, src):]
		return nil
	})
}

// Load writes src at va whatever the page's protection: the monitor uses it
// to fill the image's segments and its own pages.
func (as *AddressSpace) Load(va uint64, src []byte) error {
	as.mu.RLock()
	defer as.mu.RUnlock()
	for len(src) > 0 {
		pte := as.pt.Lookup(va &^ (PageSize - 1))
		if pte&x86.PTEPresent == 0 {
			return unix.EFAULT
		}
		gpa := pte&x86.PTEAddr | va&(PageSize-1)
		k := copy(as.phys.mem[gpa:gpa+(PageSize-gpa&(PageSize-1))], src)
		src = src[k:]
		va += uint64(k)
	}
	return nil
}

// Uint32 returns a pointer to the guest's aligned 32-bit word at va, for
// atomic access (futexes). The pointer stays valid host memory even if the
// guest unmaps the page later.
func (as *AddressSpace) Uint32(va uint64, write bool) (*uint32, error) {
	if va%4 != 0 {
		return nil, unix.EINVAL
	}
	as.mu.RLock()
	defer as.mu.RUnlock()
	gpa, err := as.touch(va, write)
	if err != nil {
		return nil, err
	}
	return (*uint32)(unsafe.Pointer(&as.phys.mem[gpa])), nil
}

// LoadUint32 atomically reads the guest's word at va.
func (as *AddressSpace) LoadUint32(va uint64) (uint32, error) {
	p, err := as.Uint32(va, false)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint32(p), nil
}

// Translate returns the page-table entry for va (0 if none), for the
// monitor's fault handling and crash reports.
func (as *AddressSpace) Translate(va uint64) uint64 {
	as.mu.RLock()
	defer as.mu.RUnlock()
	return as.pt.Lookup(va &^ (PageSize - 1))
}

// HostPage returns the host view of the frame mapped at va, whatever the
// page's protection (the monitor's own pages included), or nil.
func (as *AddressSpace) HostPage(va uint64) []byte {
	pte := as.Translate(va)
	if pte&x86.PTEPresent == 0 {
		return nil
	}
	return as.PhysicalAt(pte&x86.PTEAddr, PageSize)
}

// PhysicalAt returns the host view of n bytes of guest-physical memory at
// gpa, or nil if out of range.
func (as *AddressSpace) PhysicalAt(gpa, n uint64) []byte {
	if gpa+n < gpa || gpa+n > uint64(len(as.phys.mem)) {
		return nil
	}
	return as.phys.mem[gpa : gpa+n]
}
