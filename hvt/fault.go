package hvt

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/kvm"
	"github.com/morgana-os/morgana/x86"
)

// Fault codes of siginfo (asm-generic/siginfo.h).
const (
	segvMaperr = 1
	segvAccerr = 2
	fpeIntdiv  = 1
	fpeFltinv  = 7
	illIllopn  = 2
	busAdraln  = 1
	trapBrkpt  = 1
)

// exception turns the exception that vector vec raised in ring 3 into the
// signal Linux would send, and enters the guest's handler through the
// interrupt frame the ring-0 stub will return with.
func (t *thread) exception(vec int) bool {
	vm := t.vm
	r := t.regs()
	frameVA := r.RSP
	raw := vm.kernelBytes(frameVA, x86.ExceptionFrameSize)
	if raw == nil {
		vm.crash(t, fmt.Errorf("%s with a bad ring-0 stack %#x", x86.ExceptionName(vec), frameVA))
		return false
	}
	le := binary.LittleEndian
	f := x86.ExceptionFrame{ErrorCode: le.Uint64(raw), RIP: le.Uint64(raw[8:]), CS: le.Uint64(raw[16:]),
		RFLAGS: le.Uint64(raw[24:]), RSP: le.Uint64(raw[32:]), SS: le.Uint64(raw[40:])}
	ctx := *r
	ctx.RIP, ctx.RSP, ctx.RFLAGS = f.RIP, f.RSP, f.RFLAGS
	if f.CS&3 != 3 {
		vm.crashAt(t, &ctx, fmt.Errorf("%s in the monitor's ring-0 stubs (error code %#x)", x86.ExceptionName(vec), f.ErrorCode))
		return false
	}
	trap := trapInfo{trapno: uint64(vec), err: f.ErrorCode}
	if vec == x86.VecPF {
		s, err := t.cpu.Sregs()
		if err != nil {
			vm.crash(t, err)
			return false
		}
		trap.cr2 = s.CR2
		bound, err := vm.as.Fault(trap.cr2, f.ErrorCode&x86.PFWrite != 0, f.ErrorCode&x86.PFFetch != 0)
		if err != nil {
			vm.report(t, &ctx, "guest killed", fmt.Errorf("out of memory: touching %#x needs more than --mem %s", trap.cr2, FormatSize(vm.cfg.Mem)))
			vm.stop(128 + int(unix.SIGKILL))
			return false
		}
		vm.stats.faults.Add(1)
		if bound || t.spuriousFault(trap.cr2, f.ErrorCode) {
			return true
		}
		if t.sigactionFault(f, trap.cr2) {
			return t.sigactionEFAULT(r, raw, f)
		}
	}
	t.spurious = 0
	inArea := false
	if vec == x86.VecPF && trap.cr2 < userEnd {
		_, inArea = vm.as.Find(trap.cr2)
	}
	info, ok := faultSignal(vec, trap, f.RIP, inArea)
	if !ok {
		vm.crashAt(t, &ctx, fmt.Errorf("%s (error code %#x)", x86.ExceptionName(vec), f.ErrorCode))
		return false
	}
	vm.mu.Lock()
	blocked := t.sigmask&sigbit(info.signo) != 0
	vm.mu.Unlock()
	var act sigaction
	if !blocked {
		act = vm.sigtab.deliver(info.signo)
	}
	if blocked || act.handler == sigDfl || act.handler == sigIgn {
		vm.crashSignal(t, info.signo, &ctx, fmt.Errorf("%s at %#x", x86.ExceptionName(vec), faultAddr(info, f.RIP)))
		return false
	}
	entry, ok := t.setupFrame(info.signo, act, info, &ctx, trap)
	if !ok {
		return false
	}
	le.PutUint64(raw[8:], entry.rip)
	le.PutUint64(raw[24:], entry.rflags)
	le.PutUint64(raw[32:], entry.rsp)
	rsp := r.RSP // the ring-0 stub's stack, where the frame is
	entry.enter(r)
	r.RSP = rsp
	t.markDirty()
	return true
}

// sigactionFault reports whether the page fault f at addr is the syscall
// stub's, answering rt_sigaction, failing on the caller's act or oact (and
// not, say, on its own stack).
func (t *thread) sigactionFault(f x86.ExceptionFrame, addr uint64) bool {
	if f.RIP&^0xfff != userStubVA {
		return false
	}
	r := t.regs()
	var arg uint64
	switch x86.SigactionFault(f.RIP - userStubVA) {
	case x86.SigactionAct:
		arg = r.RSI
	case x86.SigactionOact:
		arg = r.RDX
	default:
		return false
	}
	return addr-arg < 32 // within the struct sigaction
}

// sigactionEFAULT completes an rt_sigaction the syscall stub answered
// itself, whose act the guest may not read or whose oact it may not write:
// the call fails with EFAULT, as it would in the monitor. The stub had
// pushed RFLAGS and RBX, and made room for an action, without the lock
// held (x86.SigactionFrameSize).
func (t *thread) sigactionEFAULT(r *kvm.Regs, raw []byte, f x86.ExceptionFrame) bool {
	saved := make([]byte, x86.SigactionFrameSize)
	if err := t.vm.as.CopyIn(saved, f.RSP); err != nil {
		t.vm.crashAt(t, r, fmt.Errorf("rt_sigaction stub lost its stack at %#x", f.RSP))
		return false
	}
	le := binary.LittleEndian
	flags := le.Uint64(saved[x86.SigactionSavedFlags:])
	r.RBX, r.R11, r.RAX = le.Uint64(saved[x86.SigactionSavedRBX:]), flags, errno(unix.EFAULT)
	le.PutUint64(raw[8:], r.RCX)                         // return to the caller
	le.PutUint64(raw[24:], 0x202|flags&rflagsUser)       // with its flags
	le.PutUint64(raw[32:], f.RSP+x86.SigactionFrameSize) // and its stack
	t.markDirty()
	return true
}

func faultAddr(info siginfo, rip uint64) uint64 {
	if info.addr != 0 {
		return info.addr
	}
	return rip
}

// spuriousFault reports whether a page fault was caused by a translation
// cached from before the monitor granted more access: the page tables
// allow the access now, and the fault itself dropped the stale entry.
func (t *thread) spuriousFault(addr, code uint64) bool {
	pte := t.vm.as.Translate(addr)
	ok := pte&x86.PTEPresent != 0 && pte&x86.PTEUser != 0 &&
		(code&x86.PFWrite == 0 || pte&x86.PTEWrite != 0) &&
		(code&x86.PFFetch == 0 || pte&x86.PTENoExec == 0)
	if !ok {
		return false
	}
	t.spurious++
	return t.spurious < 4
}

// userEnd is the end of the user half as Linux sees it (TASK_SIZE_MAX):
// a fault at or above it is in kernel space.
const userEnd = 1<<47 - guestmem.PageSize

// faultSignal maps an exception to its signal as Linux's traps.c and
// fault.c do. For a page fault, inArea says whether the address is in one
// of the guest's mapped areas: as in Linux, where the code comes from the
// VMA and not from the page-table entry, a fault in an area (PROT_NONE, a
// write to a read-only one) is SEGV_ACCERR, and one outside any area, or in
// the kernel half whatever the page tables hold there, SEGV_MAPERR.
func faultSignal(vec int, trap trapInfo, rip uint64, inArea bool) (siginfo, bool) {
	switch vec {
	case x86.VecPF:
		code := int32(segvMaperr)
		if inArea && trap.cr2 < userEnd {
			code = segvAccerr
		}
		return siginfo{signo: int(unix.SIGSEGV), code: code, addr: trap.cr2}, true
	case x86.VecGP, x86.VecSS, x86.VecNP, x86.VecTS, x86.VecOF, x86.VecBR:
		return siginfo{signo: int(unix.SIGSEGV), code: siKernel}, true
	case x86.VecDE:
		return siginfo{signo: int(unix.SIGFPE), code: fpeIntdiv, addr: rip}, true
	case x86.VecMF, x86.VecXM:
		return siginfo{signo: int(unix.SIGFPE), code: fpeFltinv, addr: rip}, true
	case x86.VecUD:
		return siginfo{signo: int(unix.SIGILL), code: illIllopn, addr: rip}, true
	case x86.VecAC:
		return siginfo{signo: int(unix.SIGBUS), code: busAdraln, addr: rip}, true
	case x86.VecBP, x86.VecDB:
		return siginfo{signo: int(unix.SIGTRAP), code: siKernel}, true
	}
	return siginfo{}, false
}

// kernelBytes returns the host view of the monitor's supervisor memory at
// va (within one page), or nil.
func (vm *VM) kernelBytes(va, n uint64) []byte {
	if va < kernelBase || va&4095+n > 4096 {
		return nil
	}
	page := vm.as.HostPage(va)
	if page == nil {
		return nil
	}
	return page[va&4095 : va&4095+n]
}

// crash ends the VM because of a state the monitor cannot turn into a
// signal, with a report of the vCPU's registers.
func (vm *VM) crash(t *thread, err error) {
	var ctx *kvm.Regs
	if t != nil {
		if r, e := t.cpu.Regs(); e == nil {
			ctx = &r
		}
	}
	vm.crashAt(t, ctx, err)
}

// crashAt reports err with ctx as the guest's registers and ends the VM as
// a SIGSEGV would.
func (vm *VM) crashAt(t *thread, ctx *kvm.Regs, err error) {
	vm.report(t, ctx, "guest crashed", err)
	vm.stop(128 + int(unix.SIGSEGV))
}

// crashSignal ends the VM because of a signal whose default action is to
// kill: the guest blocked or did not handle it.
func (vm *VM) crashSignal(t *thread, sig int, ctx *kvm.Regs, err error) {
	vm.report(t, ctx, "guest killed by "+unix.SignalName(unix.Signal(sig)), err)
	vm.stop(128 + sig)
}

// report prints one crash report: what happened, where (symbolised), and
// the registers.
func (vm *VM) report(t *thread, ctx *kvm.Regs, what string, err error) {
	if vm.stopped() {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "morgana: %s: %v\n", what, err)
	if ctx != nil {
		tid := 0
		if t != nil {
			tid = t.tid
		}
		fmt.Fprintf(&b, "  thread %d at %#x %s\n", tid, ctx.RIP, vm.symbolize(ctx.RIP))
		regs := []struct {
			n string
			v uint64
		}{{"rax", ctx.RAX}, {"rbx", ctx.RBX}, {"rcx", ctx.RCX}, {"rdx", ctx.RDX},
			{"rsi", ctx.RSI}, {"rdi", ctx.RDI}, {"rbp", ctx.RBP}, {"rsp", ctx.RSP},
			{"r8", ctx.R8}, {"r9", ctx.R9}, {"r10", ctx.R10}, {"r11", ctx.R11},
			{"r12", ctx.R12}, {"r13", ctx.R13}, {"r14", ctx.R14}, {"r15", ctx.R15},
			{"rip", ctx.RIP}, {"rflags", ctx.RFLAGS}}
		for i, r := range regs {
			fmt.Fprintf(&b, "  %-6s 0x%016x", r.n, r.v)
			if i%4 == 3 {
				b.WriteByte('\n')
			}
		}
		b.WriteByte('\n')
	}
	vm.cfg.Stderr.Write([]byte(b.String()))
}

// symbolize names the function at pc, with its source line when the image
// has them.
func (vm *VM) symbolize(pc uint64) string {
	if inStub(pc) {
		return "(monitor stub)"
	}
	fn, off, ok := vm.image.Symbolize(pc)
	if !ok {
		return "(unknown)"
	}
	s := fmt.Sprintf("%s+%#x", fn, off)
	if file, line, ok := vm.image.Line(pc); ok {
		s += fmt.Sprintf(" (%s:%d)", file, line)
	}
	return s
}
