// Command crash dies of a fault that nothing handles. Behind the runtime's back, with a raw
// rt_sigaction, it puts SIGSEGV back to SIG_DFL, then dereferences a nil pointer in
// main.crashHere: the fault is no longer the runtime's "nil pointer dereference" panic but the
// default action of SIGSEGV, so the process is killed by the signal (status 128+11 = 139) and,
// in a VM, the monitor prints its crash report, which must name main.crashHere.
//
// It prints its checks before crashing; if it survives the fault it says so and exits 1.
package main

import (
	"os"
	"syscall"
	"unsafe"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

// sigactiont is the kernel's struct sigaction on linux/amd64 (not libc's).
type sigactiont struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// Flags the Go runtime installs its handlers with.
const (
	saSiginfo  = 0x4
	saOnstack  = 0x08000000
	saRestorer = 0x04000000
)

type record struct{ a, b uint64 }

var (
	nilRecord *record
	sink      uint64
)

func sigaction(sig syscall.Signal, act, old *sigactiont) syscall.Errno {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	return errno
}

func main() {
	// No core file: the crash is the point, and a core would land in the test's directory or
	// in the host's crash collector.
	err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	check.That(err == nil, "setrlimit(RLIMIT_CORE, 0): %v", err)

	var old, now sigactiont
	errno := sigaction(syscall.SIGSEGV, &sigactiont{handler: 0}, &old)
	check.That(errno == 0, "rt_sigaction(SIGSEGV, SIG_DFL): errno %d", errno)
	// The action replaced was the runtime's handler: this proves the struct layout too.
	const goFlags = saSiginfo | saOnstack | saRestorer
	check.That(old.handler > 1 && old.flags&goFlags == goFlags && old.restorer != 0,
		"the previous SIGSEGV action was the runtime's handler (handler %#x, flags %#x, restorer %#x)",
		old.handler, old.flags, old.restorer)
	errno = sigaction(syscall.SIGSEGV, nil, &now)
	check.That(errno == 0 && now.handler == 0, "SIGSEGV reads back as SIG_DFL (handler %#x, errno %d)", now.handler, errno)

	check.Okf("about to dereference nil in main.crashHere")
	sink = crashHere(nilRecord)
	check.Failf("survived a nil dereference with SIGSEGV at SIG_DFL (read %d)", sink)
	os.Exit(1)
}

// crashHere reads a field 8 bytes into r: with r nil, a page fault at address 0x8.
//
//go:noinline
func crashHere(r *record) uint64 {
	return r.b // the crash line (the test looks for this comment)
}
