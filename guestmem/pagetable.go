package guestmem

import (
	"sync/atomic"
	"unsafe"

	"github.com/morgana-os/morgana/x86"
)

// tableFlags are set on every non-leaf entry: leaves decide access.
const tableFlags = x86.PTEPresent | x86.PTEWrite | x86.PTEUser | x86.PTEAccessed

// PageTable is a four-level x86-64 page table kept in guest-physical
// memory. Table pages are never freed: upper levels only ever gain entries,
// so no stale copy of them can exist.
type PageTable struct {
	phys *Physical
	root uint64
}

// NewPageTable allocates an empty top-level table.
func NewPageTable(phys *Physical) (*PageTable, error) {
	root, err := phys.Alloc()
	if err != nil {
		return nil, err
	}
	return &PageTable{phys: phys, root: root}, nil
}

// Root returns the guest-physical address of the top-level table (CR3).
func (pt *PageTable) Root() uint64 { return pt.root }

func (pt *PageTable) slot(table uint64, i uint64) *uint64 {
	return (*uint64)(unsafe.Pointer(&pt.phys.mem[table+i*8]))
}

// entry returns the leaf entry for va, creating the tables on the way when
// create is set. It returns nil when a table is missing and not created, or
// when no memory is left for a table.
func (pt *PageTable) entry(va uint64, create bool) *uint64 {
	table := pt.root
	for shift := uint(39); shift > 12; shift -= 9 {
		e := pt.slot(table, va>>shift&511)
		v := atomic.LoadUint64(e)
		if v&x86.PTEPresent == 0 {
			if !create {
				return nil
			}
			next, err := pt.phys.Alloc()
			if err != nil {
				return nil
			}
			v = next | tableFlags
			atomic.StoreUint64(e, v)
		}
		table = v & x86.PTEAddr
	}
	return pt.slot(table, va>>12&511)
}

// Lookup returns the leaf entry mapping va (0 when none).
func (pt *PageTable) Lookup(va uint64) uint64 {
	e := pt.entry(va, false)
	if e == nil {
		return 0
	}
	return atomic.LoadUint64(e)
}

// set writes the leaf entry for va. It fails only when a table page cannot
// be allocated.
func (pt *PageTable) set(va, pte uint64) bool {
	e := pt.entry(va, true)
	if e == nil {
		return false
	}
	atomic.StoreUint64(e, pte)
	return true
}

// tablesNeeded bounds the table pages that mapping [start, end) may add.
func tablesNeeded(start, end uint64) uint64 {
	pages := (end - start + PageSize - 1) / PageSize
	return pages/512 + 3 + 2
}
