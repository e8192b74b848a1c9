// Command sigaction reads and sets signal actions with raw rt_sigaction calls, the way the Go
// runtime does at start-up, and checks the answers and what signals then do: in a VM on PVM
// these calls are answered by the syscall stub without an exit, from the signal table in guest
// memory the monitor delivers signals by, so this is where that fast path is held to Linux's
// behaviour: bad pointers, forbidden signals, several threads at once, and signals delivered
// (or ignored, or reset) as the actions set through it say.
//
// With the argument "default" it sets SIGUSR2 to SIG_DFL and sends it to itself instead: it
// must die of it (status 128+12).
package main

import (
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

// sigactiont is the kernel's struct sigaction on x86-64.
type sigactiont struct {
	handler, flags, restorer, mask uint64
}

const (
	saSiginfo   = 0x4
	saRestorer  = 0x04000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	sigIgn      = 1

	// goFlags are the flags of the runtime's own handlers: SA_SIGINFO|SA_ONSTACK|SA_RESTORER|SA_RESTART.
	goFlags = 0x1c000004
	// sigRT is a real-time signal nothing sends, whose action the checks may set at will.
	sigRT = 41
	// unmapped is an address no Go program maps.
	unmapped = 0x8
)

func sigbit(sig syscall.Signal) uint64 { return 1 << (sig - 1) }

func rtSigaction(sig, act, oact, size uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, act, oact, size, 0, 0)
	return e
}

func ptr(a *sigactiont) uintptr { return uintptr(unsafe.Pointer(a)) }

func get(sig syscall.Signal) sigactiont {
	var a sigactiont
	if e := rtSigaction(uintptr(sig), 0, ptr(&a), 8); e != 0 {
		check.Failf("reading signal %d's action: errno %d", sig, e)
	}
	return a
}

func set(sig syscall.Signal, a sigactiont) {
	if e := rtSigaction(uintptr(sig), ptr(&a), 0, 8); e != 0 {
		check.Failf("setting signal %d's action: errno %d", sig, e)
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "default" {
		killedByDefault()
		return
	}
	reads()
	sets()
	errors()
	concurrent()
	delivery()
	check.Done()
	os.Exit(0)
}

func reads() {
	// The runtime's own handler, as it installs it for SIGSEGV.
	var old sigactiont
	e := rtSigaction(uintptr(syscall.SIGSEGV), 0, ptr(&old), 8)
	check.That(e == 0 && old.handler != 0 && old.flags == goFlags && old.restorer != 0,
		"SIGSEGV reads as the runtime's handler (errno %d, flags %#x)", e, old.flags)

	seg := old
	for i := 0; i < 1000; i++ {
		var again sigactiont
		if e := rtSigaction(uintptr(syscall.SIGSEGV), 0, ptr(&again), 8); e != 0 || again != seg {
			check.Failf("read %d of SIGSEGV differs: errno %d, %+v", i, e, again)
			break
		}
	}
	check.Okf("1000 reads agree")

	kill := get(syscall.SIGKILL)
	check.That(kill.handler == 0, "SIGKILL may be read and is SIG_DFL (handler %#x)", kill.handler)
}

// sets: a set reads back as set (less SIGKILL and SIGSTOP in the mask), a call with act and oact
// returns the action it replaced, even when both are the same struct.
func sets() {
	rt := get(sigRT)
	a := sigactiont{handler: rt.handler, flags: goFlags | saNodefer, restorer: rt.restorer,
		mask: sigbit(syscall.SIGKILL) | sigbit(syscall.SIGSTOP) | sigbit(syscall.SIGUSR1)}
	set(sigRT, a)
	got := get(sigRT)
	want := a
	want.mask = sigbit(syscall.SIGUSR1)
	check.That(got == want, "a set action reads back, its mask without SIGKILL and SIGSTOP (mask %#x, flags %#x)", got.mask, got.flags)

	var old sigactiont
	b := sigactiont{handler: sigIgn}
	e := rtSigaction(sigRT, ptr(&b), ptr(&old), 8)
	check.That(e == 0 && old == want && get(sigRT) == b, "act and oact in one call: the old action out, the new one in (errno %d)", e)

	inPlace := rt
	e = rtSigaction(sigRT, ptr(&inPlace), ptr(&inPlace), 8)
	check.That(e == 0 && inPlace == b && get(sigRT) == rt, "act and oact the same struct (errno %d)", e)
}

// errors: what rt_sigaction refuses, and what it does with a bad pointer.
func errors() {
	rt := get(sigRT)
	a := rt
	tests := []struct {
		name       string
		sig        uintptr
		act, oact  uintptr
		size       uintptr
		want       syscall.Errno
		wantAction sigactiont // sigRT's action afterwards
	}{
		{"reading into an unmapped oact", sigRT, 0, unmapped, 8, syscall.EFAULT, rt},
		{"reading signal 0", 0, 0, ptr(&a), 8, syscall.EINVAL, rt},
		{"reading signal 65", 65, 0, ptr(&a), 8, syscall.EINVAL, rt},
		{"reading with sigset size 7", sigRT, 0, ptr(&a), 7, syscall.EINVAL, rt},
		{"setting SIGKILL", uintptr(syscall.SIGKILL), ptr(&a), 0, 8, syscall.EINVAL, rt},
		{"setting SIGSTOP", uintptr(syscall.SIGSTOP), ptr(&a), 0, 8, syscall.EINVAL, rt},
		{"setting signal 0", 0, ptr(&a), 0, 8, syscall.EINVAL, rt},
		{"setting signal 65", 65, ptr(&a), 0, 8, syscall.EINVAL, rt},
		{"setting with sigset size 7", sigRT, ptr(&a), 0, 7, syscall.EINVAL, rt},
		{"setting from an unmapped act", sigRT, unmapped, ptr(&a), 8, syscall.EFAULT, rt},
		// Linux sets the action, then fails to report the old one.
		{"setting with an unmapped oact", sigRT, ptr(&sigactiont{handler: sigIgn}), unmapped, 8, syscall.EFAULT, sigactiont{handler: sigIgn}},
	}
	for _, tt := range tests {
		e := rtSigaction(tt.sig, tt.act, tt.oact, tt.size)
		check.That(e == tt.want && get(sigRT) == tt.wantAction, "%s fails with %v (errno %d)", tt.name, tt.want, e)
	}
	check.That(get(syscall.SIGKILL).handler == 0, "SIGKILL is still SIG_DFL")

	// An act or oact that runs off the end of the memory: act is read whole before anything
	// changes; a part of oact may be written.
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		check.Failf("mmap: %v", err)
		return
	}
	// (syscall.Munmap only takes back whole mappings.)
	if _, _, e := syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&mem[page])), uintptr(page), 0); e != 0 {
		check.Failf("munmap: %v", e)
		return
	}
	half := (*[2]uint64)(unsafe.Pointer(&mem[page-16])) // handler and flags; the rest unmapped
	half[0], half[1] = sigIgn, 0
	edge := uintptr(unsafe.Pointer(half))
	set(sigRT, rt)
	e := rtSigaction(sigRT, edge, 0, 8)
	check.That(e == syscall.EFAULT && get(sigRT) == rt, "an act half unmapped fails with EFAULT and changes nothing (errno %d)", e)
	e = rtSigaction(sigRT, ptr(&sigactiont{handler: sigIgn}), edge, 8)
	check.That(e == syscall.EFAULT && get(sigRT) == sigactiont{handler: sigIgn}, "an oact half unmapped fails with EFAULT, the action set (errno %d)", e)
	set(sigRT, rt)
	syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&mem[0])), uintptr(page), 0)
}

// concurrent: threads set and read one signal's action at once, on as many CPUs as there are;
// every action any of them sees is one some thread set, whole.
func concurrent() {
	const threads, rounds = 4, 2000
	rt := get(sigRT)
	defer set(sigRT, rt)
	// Action id: each word says id, so half of one and half of another shows.
	action := func(id uint64) sigactiont {
		return sigactiont{handler: 0x100000 + id, flags: saSiginfo | saRestorer, restorer: 0x200000 + id, mask: id << 20}
	}
	whole := func(a sigactiont) bool { return a == action(a.handler-0x100000) }
	set(sigRT, action(0))

	var wg sync.WaitGroup
	var mu sync.Mutex
	var torn, failed int
	report := func(bad, errs int) {
		mu.Lock()
		torn += bad
		failed += errs
		mu.Unlock()
	}
	for w := range threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			bad, errs := 0, 0
			for i := range rounds {
				next, old := action(uint64(w*rounds+i+1)), sigactiont{}
				if rtSigaction(sigRT, ptr(&next), ptr(&old), 8) != 0 {
					errs++
				}
				if !whole(old) {
					bad++
				}
				var now sigactiont
				if rtSigaction(sigRT, 0, ptr(&now), 8) != 0 {
					errs++
				}
				if !whole(now) {
					bad++
				}
			}
			report(bad, errs)
		})
	}
	wg.Wait()
	check.That(torn == 0 && failed == 0 && whole(get(sigRT)),
		"%d threads setting and reading one action %d times each saw only whole actions (%d torn, %d errors)",
		threads, rounds, torn, failed)
}

// delivery: the monitor delivers signals by the actions set through the fast path.
func delivery() {
	usr1 := get(syscall.SIGUSR1)
	check.That(usr1.handler > 1 && usr1.flags == goFlags, "SIGUSR1 has the runtime's handler (flags %#x)", usr1.flags)
	got := make(chan os.Signal, 4)
	signal.Notify(got, syscall.SIGUSR1) // the runtime's handler is already installed: no rt_sigaction
	receive := func(within time.Duration) bool {
		select {
		case <-got:
			return true
		case <-time.After(within):
			return false
		}
	}

	set(syscall.SIGUSR1, sigactiont{handler: sigIgn})
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	check.That(!receive(100*time.Millisecond), "SIGUSR1 set to SIG_IGN is ignored")

	set(syscall.SIGUSR1, usr1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	check.That(receive(10*time.Second), "SIGUSR1 reaches the runtime's handler, set back")

	oneShot := usr1
	oneShot.flags |= saResethand
	set(syscall.SIGUSR1, oneShot)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	check.That(receive(10*time.Second), "SIGUSR1 reaches a handler set with SA_RESETHAND")
	after := get(syscall.SIGUSR1)
	check.That(after.handler == 0 && after.flags == oneShot.flags && after.mask == oneShot.mask,
		"which is then reset to SIG_DFL, the flags and mask kept (handler %#x, flags %#x)", after.handler, after.flags)
	set(syscall.SIGUSR1, usr1)
	signal.Reset(syscall.SIGUSR1)

	// A change made through the runtime shows in raw reads.
	signal.Ignore(syscall.SIGUSR2)
	usr2 := get(syscall.SIGUSR2)
	check.That(usr2.handler == 1, "SIGUSR2 reads as SIG_IGN after signal.Ignore (handler %#x)", usr2.handler)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR2)
	usr2 = get(syscall.SIGUSR2)
	check.That(usr2.handler > 1 && usr2.flags == goFlags, "SIGUSR2 reads as the runtime's handler after signal.Notify (handler %#x)", usr2.handler)
}

// killedByDefault sets SIGUSR2 to SIG_DFL and raises it: the process must die of it.
func killedByDefault() {
	set(syscall.SIGUSR2, sigactiont{})
	check.Okf("about to raise SIGUSR2 at SIG_DFL")
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	time.Sleep(10 * time.Second)
	check.Failf("survived SIGUSR2 at SIG_DFL")
	os.Exit(1)
}
