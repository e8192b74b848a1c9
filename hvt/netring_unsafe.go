package hvt

import (
	"sync/atomic"
	"unsafe"
)

// wordAt is the uint32 at off of page, which the guest shares: every
// access goes through the atomics below.
func wordAt(page []byte, off int) *uint32 {
	_ = page[off+3]
	return (*uint32)(unsafe.Pointer(&page[off]))
}

func loadWord(p *uint32) uint32     { return atomic.LoadUint32(p) }
func storeWord(p *uint32, v uint32) { atomic.StoreUint32(p, v) }
