package spt

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// load installs filter with seccomp(2) on all threads (TSYNC).
func load(filter []unix.SockFilter) error {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		return fmt.Errorf("spt: load seccomp filter: %w", e)
	}
	return nil
}
