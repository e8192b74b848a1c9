package vdso

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Store writes c into the data page (the first DataSize bytes of page,
// normally the guest's mapping of it) under a seqlock: the sequence number
// is odd while the fields change, and guest readers on other vCPUs retry
// until they see the same even sequence before and after reading. So a
// reader never combines fields of two different Clocks.
//
// Stores are atomic (XCHG on amd64), hence ordered: seq odd, fields, seq
// even. Concurrent Store calls on one page are safe: a writer claims the
// page by moving seq from even to odd with a compare-and-swap.
//
// page must be 8-byte aligned, at least DataSize long, and zero before the
// first Store (fresh guest memory is); a page left with an odd sequence
// would make Store wait forever.
func Store(page []byte, c Clock) {
	if len(page) < DataSize {
		panic("vdso: data page shorter than DataSize")
	}
	p := unsafe.Pointer(unsafe.SliceData(page))
	if uintptr(p)%8 != 0 {
		panic("vdso: data page not 8-byte aligned")
	}
	seq := (*uint32)(unsafe.Add(p, offSeq))
	for {
		s := atomic.LoadUint32(seq)
		if s&1 == 0 && atomic.CompareAndSwapUint32(seq, s, s+1) {
			break
		}
		runtime.Gosched() // another writer holds the page
	}
	atomic.StoreUint64((*uint64)(unsafe.Add(p, offTSCBase)), c.TSCBase)
	atomic.StoreInt64((*int64)(unsafe.Add(p, offMonoBase)), c.MonoBase)
	atomic.StoreUint32((*uint32)(unsafe.Add(p, offMult)), c.Mult)
	atomic.StoreUint32((*uint32)(unsafe.Add(p, offShift)), c.Shift)
	atomic.StoreInt64((*int64)(unsafe.Add(p, offRealOffset)), c.RealOffset)
	atomic.AddUint32(seq, 1)
}
