package usernet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is a set of frame buffers for one recvmmsg or sendmmsg call, so
// that a burst of frames costs one system call rather than one each.
type batch struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
}

// batchBytes bounds a batch's buffers; maxBatch bounds its frames.
const (
	batchBytes = 256 << 10
	maxBatch   = 64
)

// newBatch makes a batch of buffers of size bytes each.
func newBatch(size int) *batch {
	n := min(max(batchBytes/size, 1), maxBatch)
	b := &batch{
		hdrs: make([]unix.Mmsghdr, n),
		iovs: make([]unix.Iovec, n),
		bufs: make([][]byte, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, size)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(size)
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return b
}

// setLen sets the length of frame i, for sending.
func (b *batch) setLen(i, n int) { b.iovs[i].SetLen(n) }

// recvmmsg reads up to len(hdrs) messages into their full buffers.
func recvmmsg(fd int, b *batch) (int, error) {
	for i := range b.iovs {
		b.iovs[i].SetLen(len(b.bufs[i]))
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sendmmsg sends the messages of hdrs, returning how many were sent.
func sendmmsg(fd int, hdrs []unix.Mmsghdr) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
