package hvt

import (
	"math/bits"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/kvm"
)

// Signal numbers and flags of Linux x86-64.
const (
	nsig        = 64
	saNoCldStop = 0x1
	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000

	sigDfl = 0
	sigIgn = 1

	ssOnstack = 1
	ssDisable = 2
	minSigStk = 2048

	siUser   = 0
	siKernel = 0x80
	siTkill  = -6
)

func sigbit(sig int) uint64 { return 1 << (sig - 1) }

// unblockable signals can never be masked.
var unblockable = sigbit(int(unix.SIGKILL)) | sigbit(int(unix.SIGSTOP))

// sigaction mirrors the kernel's struct sigaction for x86-64.
type sigaction struct {
	handler  uint64
	flags    uint64
	restorer uint64
	mask     uint64
}

// stackT mirrors stack_t.
type stackT struct {
	sp    uint64
	flags int32
	size  uint64
}

func (s stackT) contains(sp uint64) bool {
	return s.flags&ssDisable == 0 && sp > s.sp && sp <= s.sp+s.size
}

// siginfo is what the guest's handler learns about a signal.
type siginfo struct {
	signo int
	code  int32
	addr  uint64 // si_addr for faults
	pid   uint32 // si_pid for kill and tgkill
}

// ignoredByDefault are the signals whose default action is to do nothing.
func ignoredByDefault(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT:
		return true
	}
	return false
}

// queueThreadSignal makes sig pending for t (tgkill) and kicks t.
func (vm *VM) queueThreadSignal(t *thread, sig int) {
	vm.mu.Lock()
	t.pending |= sigbit(sig)
	deliverable := t.pending&^t.sigmask != 0
	vm.mu.Unlock()
	if deliverable {
		t.kick()
	}
}

// queueProcessSignal makes sig pending for the process and kicks a thread
// that can take it.
func (vm *VM) queueProcessSignal(sig int) {
	vm.mu.Lock()
	vm.procPend |= sigbit(sig)
	var target *thread
	for _, t := range vm.threads {
		if t.sigmask&sigbit(sig) == 0 {
			target = t
			break
		}
	}
	vm.mu.Unlock()
	if target != nil {
		target.kick()
	}
}

// nextSignal dequeues the lowest pending signal t does not block and
// returns it with the action to take; 0 if none. Signals whose action is
// to do nothing are dropped, and one whose default action is to terminate
// ends the VM. The action is read from the guest's table without vm.mu
// held (sigTable: its lock is the guest's too).
func (t *thread) nextSignal() (int, siginfo, sigaction) {
	vm := t.vm
	for {
		vm.mu.Lock()
		sig, info := t.dequeueSignal()
		vm.mu.Unlock()
		if sig == 0 {
			return 0, siginfo{}, sigaction{}
		}
		act := vm.sigtab.deliver(sig)
		switch {
		case act.handler == sigIgn, act.handler == sigDfl && ignoredByDefault(sig):
			continue
		case act.handler == sigDfl:
			vm.killedBy(sig) // before the guest can run on
			return 0, siginfo{}, sigaction{}
		}
		return sig, info, act
	}
}

// dequeueSignal takes the lowest pending signal t does not block off its
// queue; 0 if none. Caller holds vm.mu.
func (t *thread) dequeueSignal() (int, siginfo) {
	vm := t.vm
	ready := (t.pending | vm.procPend) &^ t.sigmask
	if ready == 0 {
		return 0, siginfo{}
	}
	sig := bits.TrailingZeros64(ready) + 1
	info := siginfo{signo: sig, code: siUser, pid: guestPID}
	if t.pending&sigbit(sig) != 0 {
		t.pending &^= sigbit(sig)
		info.code = siTkill
	} else {
		vm.procPend &^= sigbit(sig)
	}
	return sig, info
}

// killedBy ends the VM as Linux ends a process whose signal's default
// action is to terminate: status 128+sig, as shells and docker report.
func (vm *VM) killedBy(sig int) {
	if !vm.stopped() {
		vm.log.Info("guest killed", "signal", unix.SignalName(unix.Signal(sig)))
	}
	vm.stop(128 + sig)
}

// deliverAtSyscall delivers a pending signal as the system call returns:
// the syscall stub returns through RCX (and SYSRETQ takes RFLAGS from R11),
// so pointing those at the handler is all it takes.
func (t *thread) deliverAtSyscall() {
	r := t.regs()
	ctx := *r
	ctx.RIP, ctx.RFLAGS = r.RCX, r.R11
	if e, ok := t.takeSignal(&ctx); ok {
		r.RCX, r.R11 = e.rip, e.rflags
		e.enter(r)
		t.markDirty()
	}
}

// deliverAsync delivers a pending signal to a thread that was running
// guest code when it was kicked, unless it stopped inside a stub: then the
// signal waits for the stub's doorbell.
func (t *thread) deliverAsync() {
	r := t.regs()
	if inStub(r.RIP) {
		return
	}
	ctx := *r
	if e, ok := t.takeSignal(&ctx); ok {
		r.RIP, r.RFLAGS = e.rip, e.rflags
		e.enter(r)
		t.markDirty()
	}
}

// takeSignal dequeues the next deliverable signal and writes its frame
// for the interrupted context ctx.
func (t *thread) takeSignal(ctx *kvm.Regs) (handlerEntry, bool) {
	sig, info, act := t.nextSignal()
	if sig == 0 {
		return handlerEntry{}, false
	}
	return t.setupFrame(sig, act, info, ctx, trapInfo{})
}
