package kvm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl issues one ioctl and retries on EINTR where the call is idempotent.
func ioctl(fd int, req, arg uintptr) (uintptr, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return r, nil
	}
}

func ioctlPtr(fd int, req uintptr, p unsafe.Pointer) error {
	_, err := ioctl(fd, req, uintptr(p))
	return err
}

// run issues KVM_RUN once; unlike ioctl it reports EINTR to the caller,
// which is how a kicked vCPU learns that it was kicked.
func run(fd int) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioRun, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func mapRun(fd, size int) (*Run, []byte, error) {
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return (*Run)(unsafe.Pointer(&b[0])), b, nil
}

// IO returns the description of a KVM_EXIT_IO exit and its data bytes.
func (r *Run) IO() (*IO, []byte) {
	io := (*IO)(unsafe.Pointer(&r.exit[0]))
	n := int(io.Size) * int(io.Count)
	base := unsafe.Pointer(r)
	data := unsafe.Slice((*byte)(unsafe.Add(base, io.DataOffset)), n)
	return io, data
}

// MMIO returns the description of a KVM_EXIT_MMIO exit.
func (r *Run) MMIO() *MMIO { return (*MMIO)(unsafe.Pointer(&r.exit[0])) }

// InternalError returns the description of a KVM_EXIT_INTERNAL_ERROR exit.
func (r *Run) InternalError() *InternalError {
	return (*InternalError)(unsafe.Pointer(&r.exit[0]))
}

// FailEntry returns the description of a KVM_EXIT_FAIL_ENTRY exit.
func (r *Run) FailEntry() *FailEntry { return (*FailEntry)(unsafe.Pointer(&r.exit[0])) }

func cpuidBuf(n int) ([]byte, *uint32) {
	b := make([]byte, 8+n*int(unsafe.Sizeof(CPUIDEntry{})))
	nent := (*uint32)(unsafe.Pointer(&b[0]))
	*nent = uint32(n)
	return b, nent
}

func cpuidEntries(b []byte) []CPUIDEntry {
	n := *(*uint32)(unsafe.Pointer(&b[0]))
	return unsafe.Slice((*CPUIDEntry)(unsafe.Pointer(&b[8])), n)
}

// SetImmediateExit sets kvm_run.immediate_exit. It may be called from any
// thread: it is how another thread makes the vCPU's next (or current) entry
// return EINTR. The store covers the first four bytes of kvm_run, of which
// only immediate_exit is ever non-zero.
func (r *Run) SetImmediateExit(on bool) {
	var v uint32
	if on {
		v = 1 << 8
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(r)), v)
}
