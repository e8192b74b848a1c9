package x86

// The PVM syscall stub answers one call itself, without an exit: reading a
// signal's action, rt_sigaction(sig, NULL, oact, 8). The Go runtime makes
// 57 such calls at start-up, each an exit of some 30 µs on PVM otherwise.
// The monitor keeps a read-only mirror of the actions in guest memory, the
// signal table page, under a sequence lock; the stub copies from it.
//
// Signal table page layout (SigTable* offsets): a 32-bit sequence number,
// odd while the monitor writes, then four arrays of 64 little-endian
// words indexed by signal number minus one: handlers, flags, restorers,
// masks.
const (
	SigTableSeq      = 0
	SigTableHandler  = 64
	SigTableFlags    = SigTableHandler + 64*8
	SigTableRestorer = SigTableFlags + 64*8
	SigTableMask     = SigTableRestorer + 64*8
)

// SigactionStub returns the PVM syscall stub with the fast path, for a stub
// page at stubVA and a signal table at tableVA. Everything the fast path
// does not take falls through to SyscallStubUser's doorbell at
// SigactionSlowOff. A fault while writing oact happens between
// SigactionFaultStart and SigactionFaultEnd, with the saved RBX and RFLAGS
// on the stack: the monitor then completes the call with EFAULT.
func SigactionStub(stubVA, tableVA uint64) []byte {
	b, _ := sigactionStub(stubVA, tableVA)
	return b
}

// sigactionStub assembles the stub and says where its parts are; the
// layout does not depend on the addresses.
func sigactionStub(stubVA, tableVA uint64) ([]byte, stubLayout) {
	var b []byte
	emit := func(bs ...byte) { b = append(b, bs...) }
	// jcc32 emits a 6-byte conditional jump to the slow path, patched below.
	var patches []int
	var restorePatches []int
	jcc := func(cc byte, restore bool) {
		emit(0x0f, cc, 0, 0, 0, 0)
		if restore {
			restorePatches = append(restorePatches, len(b))
		} else {
			patches = append(patches, len(b))
		}
	}
	emit(0x48, 0x83, 0xf8, 0x0d) // cmp $13, %rax          (rt_sigaction?)
	jcc(0x85, false)             // jne slow
	emit(0x48, 0x85, 0xf6)       // test %rsi, %rsi        (act must be NULL)
	jcc(0x85, false)             // jnz slow
	emit(0x48, 0x85, 0xd2)       // test %rdx, %rdx        (oact must be set)
	jcc(0x84, false)             // jz slow
	emit(0x49, 0x83, 0xfa, 0x08) // cmp $8, %r10           (sigsetsize)
	jcc(0x85, false)             // jne slow
	emit(0x48, 0x8d, 0x47, 0xff) // lea -1(%rdi), %rax
	emit(0x48, 0x83, 0xf8, 0x3f) // cmp $63, %rax          (1 <= sig <= 64)
	jcc(0x87, true)              // ja restore
	emit(0x41, 0x53)             // push %r11              (RFLAGS at SYSCALL)
	emit(0x53)                   // push %rbx
	// lea table(%rip), %rax
	emit(0x48, 0x8d, 0x05)
	rel := int32(int64(tableVA) - int64(stubVA) - int64(len(b)+4))
	emit(byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24))
	again := len(b)
	emit(0x8b, 0x18)       // mov (%rax), %ebx       (sequence)
	emit(0xf6, 0xc3, 0x01) // test $1, %bl
	emit(0x75, 0)          // jnz wait (patched)
	waitPatch := len(b)
	faultStart := len(b)
	for i, off := range []int32{SigTableHandler, SigTableFlags, SigTableRestorer, SigTableMask} {
		d := off - 8 // the arrays are indexed by sig-1
		// mov d(%rax,%rdi,8), %r11
		emit(0x4c, 0x8b, 0x9c, 0xf8, byte(d), byte(d>>8), byte(d>>16), byte(d>>24))
		// mov %r11, 8*i(%rdx)
		if i == 0 {
			emit(0x4c, 0x89, 0x1a)
		} else {
			emit(0x4c, 0x89, 0x5a, byte(8*i))
		}
	}
	faultEnd := len(b)
	emit(0x3b, 0x18) // cmp (%rax), %ebx         (unchanged?)
	emit(0x75, byte(int8(again-(len(b)+2))))
	emit(0x5b)                         // pop %rbx
	emit(0x31, 0xc0)                   // xor %eax, %eax         (return 0)
	emit(0x9d)                         // popfq
	emit(0x4c, 0x8b, 0x5c, 0x24, 0xf8) // mov -8(%rsp), %r11     (as SYSCALL left it)
	emit(0xff, 0xe1)                   // jmp *%rcx
	b[waitPatch-1] = byte(len(b) - waitPatch)
	emit(0xf3, 0x90) // wait: pause
	emit(0xeb, byte(int8(again-(len(b)+2))))
	restore := len(b)
	emit(0xb8, 0x0d, 0, 0, 0) // restore: mov $13, %eax
	slow := len(b)
	b = append(b, SyscallStubUser...)
	put := func(at, target int) {
		d := int32(target - at)
		b[at-4], b[at-3], b[at-2], b[at-1] = byte(d), byte(d>>8), byte(d>>16), byte(d>>24)
	}
	for _, p := range patches {
		put(p, slow)
	}
	for _, p := range restorePatches {
		put(p, restore)
	}
	return b, stubLayout{faultStart, faultEnd, slow}
}

type stubLayout struct{ faultStart, faultEnd, slow int }

var sigactionLayout = func() stubLayout {
	_, l := sigactionStub(0, 0)
	return l
}()

// SigactionFault reports whether off (an offset into the stub page) is an
// instruction of the fast path that writes to the guest's oact.
func SigactionFault(off uint64) bool {
	return off >= uint64(sigactionLayout.faultStart) && off < uint64(sigactionLayout.faultEnd)
}
