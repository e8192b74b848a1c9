package hvt

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/kvm"
)

// The x86-64 signal frame (arch/x86/include/asm/sigframe.h): the return
// address (sa_restorer), a ucontext, a siginfo, and apart from them, 64-byte
// aligned, the XSAVE area the ucontext points to.
const (
	ucOffset     = 8
	ucMcontext   = 40 // uc_flags, uc_link, uc_stack
	ucSigmask    = ucMcontext + 256
	ucSize       = ucSigmask + 8
	infoOffset   = ucOffset + ucSize
	sigFrameSize = infoOffset + 128

	ucFPXState = 0x1
	ucSigSS    = 0x2
	ucStrictSS = 0x4

	fpMagic1 = 0x46505853
	fpMagic2 = 0x46505845

	// rflagsUser are the flags sigreturn may restore (FIX_EFLAGS).
	rflagsUser = 0x50dd5
	rflagsDF   = 0x400
	rflagsTF   = 0x100
)

// Offsets of struct sigcontext's registers, in the order Linux stores them.
var mcontextRegs = []func(r *kvm.Regs) *uint64{
	func(r *kvm.Regs) *uint64 { return &r.R8 }, func(r *kvm.Regs) *uint64 { return &r.R9 },
	func(r *kvm.Regs) *uint64 { return &r.R10 }, func(r *kvm.Regs) *uint64 { return &r.R11 },
	func(r *kvm.Regs) *uint64 { return &r.R12 }, func(r *kvm.Regs) *uint64 { return &r.R13 },
	func(r *kvm.Regs) *uint64 { return &r.R14 }, func(r *kvm.Regs) *uint64 { return &r.R15 },
	func(r *kvm.Regs) *uint64 { return &r.RDI }, func(r *kvm.Regs) *uint64 { return &r.RSI },
	func(r *kvm.Regs) *uint64 { return &r.RBP }, func(r *kvm.Regs) *uint64 { return &r.RBX },
	func(r *kvm.Regs) *uint64 { return &r.RDX }, func(r *kvm.Regs) *uint64 { return &r.RAX },
	func(r *kvm.Regs) *uint64 { return &r.RCX }, func(r *kvm.Regs) *uint64 { return &r.RSP },
	func(r *kvm.Regs) *uint64 { return &r.RIP }, func(r *kvm.Regs) *uint64 { return &r.RFLAGS },
}

// trapInfo is the hardware's part of a synchronous signal's context.
type trapInfo struct{ trapno, err, cr2 uint64 }

// handlerEntry is the register state that enters a signal handler.
type handlerEntry struct{ rip, rsp, rflags, rdi, rsi, rdx uint64 }

// enter sets the handler's stack and arguments in r; how RIP and RFLAGS
// are set depends on where the vCPU stopped.
func (e handlerEntry) enter(r *kvm.Regs) {
	r.RSP = e.rsp
	r.RDI, r.RSI, r.RDX, r.RAX = e.rdi, e.rsi, e.rdx, 0
}

// setupFrame writes the signal frame for sig interrupting ctx on the
// thread's stack (or alternate stack) and returns how to enter act's
// handler. If the frame cannot be written, the guest dies of SIGSEGV, as on
// Linux.
func (t *thread) setupFrame(sig int, act sigaction, info siginfo, ctx *kvm.Regs, trap trapInfo) (handlerEntry, bool) {
	vm := t.vm
	vm.stats.signals.Add(1)
	vm.mu.Lock()
	oldmask := t.sigmask
	alt := t.altstack
	vm.mu.Unlock()

	sp := ctx.RSP
	onAlt := alt.contains(sp)
	if act.flags&saOnstack != 0 && alt.flags&ssDisable == 0 && !onAlt {
		sp = alt.sp + alt.size
	} else {
		sp -= 128 // the red zone
	}
	var xs kvm.XSAVE
	if err := t.cpu.XSAVE(&xs); err != nil {
		vm.crash(t, fmt.Errorf("signal %d: %w", sig, err))
		return handlerEntry{}, false
	}
	fpSize := uint64(vm.xsaveSize)
	sp = (sp - fpSize - 4) &^ 63
	fpstate := sp
	frame := ((sp - sigFrameSize) &^ 15) - 8

	fp := xsaveBytes(&xs)[:fpSize+4]
	binary.LittleEndian.PutUint32(fp[464:], fpMagic1)
	binary.LittleEndian.PutUint32(fp[468:], uint32(fpSize+4))
	binary.LittleEndian.PutUint64(fp[472:], vm.xcr0)
	binary.LittleEndian.PutUint32(fp[480:], uint32(fpSize))
	binary.LittleEndian.PutUint32(fp[fpSize:], fpMagic2)

	b := make([]byte, sigFrameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.restorer)
	uc := b[ucOffset:]
	le.PutUint64(uc[0:], ucFPXState|ucSigSS|ucStrictSS)
	le.PutUint64(uc[16:], alt.sp)
	stackFlags := alt.flags
	if onAlt {
		stackFlags |= ssOnstack
	}
	le.PutUint32(uc[24:], uint32(stackFlags))
	le.PutUint64(uc[32:], alt.size)
	mc := uc[ucMcontext:]
	for i, reg := range mcontextRegs {
		le.PutUint64(mc[i*8:], *reg(ctx))
	}
	le.PutUint16(mc[144:], 0x33) // cs
	le.PutUint16(mc[150:], 0x2b) // ss
	le.PutUint64(mc[152:], trap.err)
	le.PutUint64(mc[160:], trap.trapno)
	le.PutUint64(mc[168:], oldmask)
	le.PutUint64(mc[176:], trap.cr2)
	le.PutUint64(mc[184:], fpstate)
	le.PutUint64(uc[ucSigmask:], oldmask)
	si := b[infoOffset:]
	le.PutUint32(si[0:], uint32(info.signo))
	le.PutUint32(si[8:], uint32(info.code))
	if info.code > 0 {
		le.PutUint64(si[16:], info.addr)
	} else {
		le.PutUint32(si[16:], info.pid)
	}

	if act.flags&saRestorer == 0 || vm.as.CopyOut(fpstate, fp) != nil || vm.as.CopyOut(frame, b) != nil {
		vm.crashSignal(t, sig, ctx, fmt.Errorf("cannot deliver signal %s: no usable stack at %#x", unix.SignalName(unix.Signal(sig)), frame))
		return handlerEntry{}, false
	}

	vm.mu.Lock()
	t.sigmask |= act.mask
	if act.flags&saNodefer == 0 {
		t.sigmask |= sigbit(sig)
	}
	t.sigmask &^= unblockable
	vm.mu.Unlock()
	return handlerEntry{
		rip:    act.handler,
		rsp:    frame,
		rflags: ctx.RFLAGS &^ (rflagsDF | rflagsTF),
		rdi:    uint64(sig),
		rsi:    frame + infoOffset,
		rdx:    frame + ucOffset,
	}, true
}

// sysRtSigreturn restores the context saved by setupFrame. The handler's
// return popped the restorer's address, so the ucontext is at RSP.
func sysRtSigreturn(t *thread, _ *args) (uint64, outcome) {
	vm := t.vm
	cur := *t.regs()
	ucVA := cur.RSP
	uc := make([]byte, ucSize)
	if err := vm.as.CopyIn(uc, ucVA); err != nil {
		vm.crashSignal(t, int(unix.SIGSEGV), &cur, fmt.Errorf("rt_sigreturn: bad frame at %#x", ucVA))
		return 0, stopped
	}
	le := binary.LittleEndian
	mc := uc[ucMcontext:]
	var r kvm.Regs
	for i, reg := range mcontextRegs {
		*reg(&r) = le.Uint64(mc[i*8:])
	}
	r.RFLAGS = 0x202 | r.RFLAGS&rflagsUser
	if r.RIP >= guestmem.UserEnd {
		vm.crashSignal(t, int(unix.SIGSEGV), &r, fmt.Errorf("rt_sigreturn to %#x", r.RIP))
		return 0, stopped
	}
	var xs kvm.XSAVE
	if fpstate := le.Uint64(mc[184:]); fpstate != 0 {
		if err := vm.as.CopyIn(xsaveBytes(&xs)[:vm.xsaveSize], fpstate); err != nil {
			vm.crashSignal(t, int(unix.SIGSEGV), &r, fmt.Errorf("rt_sigreturn: bad FPU state at %#x", fpstate))
			return 0, stopped
		}
		clear(xsaveBytes(&xs)[464:512]) // the kernel's software bytes
	}
	if err := t.completeIO(); err != nil {
		vm.crash(t, fmt.Errorf("rt_sigreturn: %w", err))
		return 0, stopped
	}
	if err := vm.platform.leaveStub(t.cpu); err != nil {
		vm.crash(t, fmt.Errorf("rt_sigreturn: %w", err))
		return 0, stopped
	}
	if le.Uint64(mc[184:]) != 0 {
		if err := t.cpu.SetXSAVE(&xs); err != nil {
			vm.crashSignal(t, int(unix.SIGSEGV), &r, fmt.Errorf("rt_sigreturn: FPU state refused: %w", err))
			return 0, stopped
		}
	}
	*t.regs() = r
	t.markDirty()

	vm.mu.Lock()
	t.sigmask = le.Uint64(uc[ucSigmask:]) &^ unblockable
	alt := stackT{sp: le.Uint64(uc[16:]), flags: int32(le.Uint32(uc[24:])) &^ ssOnstack, size: le.Uint64(uc[32:])}
	if !t.altstack.contains(r.RSP) {
		t.altstack = alt
	}
	more := (t.pending|vm.procPend)&^t.sigmask != 0
	vm.mu.Unlock()
	if more {
		t.attention.Store(true)
	}
	return 0, replaced
}
