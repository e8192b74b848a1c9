// Command sigaction reads signal actions with raw rt_sigaction calls, the
// way the Go runtime does at start-up, and checks the answers: in a VM on
// PVM these reads are answered by the syscall stub without an exit, so
// this is where that fast path is held to Linux's behaviour, bad pointers
// included.
package main

import (
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

// sigactiont is the kernel's struct sigaction on x86-64.
type sigactiont struct {
	handler, flags, restorer, mask uint64
}

func get(sig, oact uintptr, size uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, 0, oact, size, 0, 0)
	return e
}

func main() {
	// The runtime's own handler, as it installs it for SIGSEGV.
	const goFlags = 0x1c000004 // SA_SIGINFO|SA_ONSTACK|SA_RESTORER|SA_RESTART
	var old sigactiont
	e := get(uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&old)), 8)
	check.That(e == 0 && old.handler != 0 && old.flags == goFlags && old.restorer != 0,
		"SIGSEGV reads as the runtime's handler (errno %d, flags %#x)", e, old.flags)

	seg := old
	for i := 0; i < 1000; i++ {
		var again sigactiont
		if e := get(uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&again)), 8); e != 0 || again != seg {
			check.Failf("read %d of SIGSEGV differs: errno %d, %+v", i, e, again)
			break
		}
	}
	check.Okf("1000 reads agree")

	var kill sigactiont
	e = get(uintptr(syscall.SIGKILL), uintptr(unsafe.Pointer(&kill)), 8)
	check.That(e == 0 && kill.handler == 0, "SIGKILL may be read and is SIG_DFL (errno %d, handler %#x)", e, kill.handler)

	tests := []struct {
		name      string
		sig, oact uintptr
		size      uintptr
		want      syscall.Errno
	}{
		{"unmapped oact", uintptr(syscall.SIGSEGV), 0x8, 8, syscall.EFAULT},
		{"signal 0", 0, uintptr(unsafe.Pointer(&old)), 8, syscall.EINVAL},
		{"signal 65", 65, uintptr(unsafe.Pointer(&old)), 8, syscall.EINVAL},
		{"sigset size 7", uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&old)), 7, syscall.EINVAL},
	}
	for _, tt := range tests {
		check.That(get(tt.sig, tt.oact, tt.size) == tt.want, "%s fails with %v", tt.name, tt.want)
	}

	// A change made through the slow path shows in the fast path's reads.
	signal.Ignore(syscall.SIGUSR2)
	var usr2 sigactiont
	get(uintptr(syscall.SIGUSR2), uintptr(unsafe.Pointer(&usr2)), 8)
	check.That(usr2.handler == 1, "SIGUSR2 reads as SIG_IGN after signal.Ignore (handler %#x)", usr2.handler)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR2)
	get(uintptr(syscall.SIGUSR2), uintptr(unsafe.Pointer(&usr2)), 8)
	check.That(usr2.handler > 1 && usr2.flags == goFlags, "SIGUSR2 reads as the runtime's handler after signal.Notify (handler %#x)", usr2.handler)
	check.Done()
	os.Exit(0)
}
