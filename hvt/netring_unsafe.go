package hvt

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// wordAt is the uint32 at off of page, which the guest shares: every
// access goes through the atomics below.
func wordAt(page []byte, off int) *uint32 {
	_ = page[off+3]
	return (*uint32)(unsafe.Pointer(&page[off]))
}

func loadWord(p *uint32) uint32     { return atomic.LoadUint32(p) }
func storeWord(p *uint32, v uint32) { atomic.StoreUint32(p, v) }
func casWord(p *uint32, old, new uint32) bool {
	return atomic.CompareAndSwapUint32(p, old, new)
}

// iovecs is the iovec array of one goroutine's readv and writev, kept so
// that moving a frame allocates nothing (x/sys/unix's Readv and Writev
// make a new one per call).
type iovecs []unix.Iovec

// rw is readv (trap SYS_READV) or writev (SYS_WRITEV) of bufs on fd.
func (v *iovecs) rw(trap uintptr, fd int, bufs [][]byte) (int, error) {
	iov := (*v)[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			e := unix.Iovec{Base: &b[0]}
			e.SetLen(len(b))
			iov = append(iov, e)
		}
	}
	*v = iov
	var p unsafe.Pointer
	if len(iov) > 0 {
		p = unsafe.Pointer(&iov[0])
	}
	n, _, errno := unix.Syscall(trap, uintptr(fd), uintptr(p), uintptr(len(iov)))
	runtime.KeepAlive(bufs)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
