package x86

// The PVM syscall stub answers rt_sigaction(sig, act, oact, 8) itself,
// without an exit: the Go runtime makes some 113 such calls at start-up
// (a read of every signal's action, then a set of each it handles), each
// an exit of some 30 µs on PVM otherwise.
//
// The signal actions live in guest memory, on the signal table page, and
// nowhere else: the stub and the monitor both read and write them there,
// under a sequence lock. The sequence is odd while someone writes; a
// writer takes the lock by a compare-and-swap of the sequence from an even
// value to the next (so writers exclude each other, on any vCPU or in the
// monitor) and releases it by making it even again; a reader copies the
// action and retries while the sequence is odd or has changed.
//
// Signal table page layout (SigTable* offsets): the 32-bit sequence, then
// four arrays of 64 little-endian words indexed by signal number minus
// one: handlers, flags, restorers, masks.
const (
	SigTableSeq      = 0
	SigTableHandler  = 64
	SigTableFlags    = SigTableHandler + 64*8
	SigTableRestorer = SigTableFlags + 64*8
	SigTableMask     = SigTableRestorer + 64*8
)

// The stub's stack while it touches act or oact, which is where a fault
// may stop it: below the caller's RSP it has pushed R11 (the caller's
// RFLAGS), then RBX, then made room for one struct sigaction. A monitor
// that completes a faulting call restores RBX and the flags from here, and
// RSP to the frame's top. (The 48 bytes are free: Go code keeps nothing
// below SP, and its stack checks leave at least 128 bytes there at a
// system call.)
const (
	SigactionSavedRBX   = 32
	SigactionSavedFlags = 40
	SigactionFrameSize  = 48
)

// SigactionPointer names the argument a faulting instruction of the stub
// was reading or writing.
type SigactionPointer int

const (
	// SigactionNone: not an access to the caller's memory.
	SigactionNone SigactionPointer = iota
	// SigactionAct: a read of act (RSI), before anything changed.
	SigactionAct
	// SigactionOact: a write of oact (RDX), after the lock is released.
	SigactionOact
)

// SigactionStub returns the PVM syscall stub with the fast path, for a stub
// page at stubVA and a signal table at tableVA. Everything the fast path
// does not take (other calls; every call that fails with EINVAL; neither
// act nor oact) falls through to SyscallStubUser's doorbell. A fault on
// act or oact happens at an instruction SigactionFault names, with the
// stack laid out as SigactionSaved* say: the monitor then completes the
// call with EFAULT, as Linux would.
func SigactionStub(stubVA, tableVA uint64) []byte {
	b, _ := sigactionStub(stubVA, tableVA)
	return b
}

// asm is a tiny assembler: bytes, and rel32 jumps to labels.
type asm struct {
	b      []byte
	labels map[string]int
	fixups map[int]string // end of a rel32 field -> its label
}

func (a *asm) emit(bs ...byte) { a.b = append(a.b, bs...) }
func (a *asm) label(l string)  { a.labels[l] = len(a.b) }
func (a *asm) jcc(cc byte, l string) {
	a.emit(0x0f, cc, 0, 0, 0, 0)
	a.fixups[len(a.b)] = l
}
func (a *asm) jmp(l string) {
	a.emit(0xe9, 0, 0, 0, 0)
	a.fixups[len(a.b)] = l
}
func (a *asm) rel32(d int32) { a.emit(byte(d), byte(d>>8), byte(d>>16), byte(d>>24)) }
func (a *asm) link() {
	for end, l := range a.fixups {
		target, ok := a.labels[l]
		if !ok {
			panic("x86: stub jumps to undefined label " + l)
		}
		d := int32(target - end)
		a.b[end-4], a.b[end-3], a.b[end-2], a.b[end-1] = byte(d), byte(d>>8), byte(d>>16), byte(d>>24)
	}
}

// Condition codes of the 0x0f 0x8x jumps.
const (
	ccE  = 0x84
	ccNE = 0x85
	ccA  = 0x87
)

// tableWord is the displacement of word i's array, indexed by sig-1 with
// sig in RDI.
func tableWord(i int) int32 {
	return int32([]int{SigTableHandler, SigTableFlags, SigTableRestorer, SigTableMask}[i] - 8)
}

// unblockableMask clears SIGKILL's and SIGSTOP's bits from a signal mask, as
// rt_sigaction does to a new action's sa_mask.
const unblockableMask int32 = ^(1<<(9-1) | 1<<(19-1))

// sigactionStub assembles the stub and says where its parts are; the
// layout does not depend on the addresses.
//
// Registers: RDI sig, RSI act, RDX oact, R10 sigsetsize, as the call left
// them (and as they must stay: a system call changes only RAX, RCX and
// R11, and the stub returns R11 as SYSCALL left it); RCX the return
// address; RBX the table; RAX and R11 scratch. The new and the old action
// pass through the buffer on the stack, so the lock is held only while
// the table itself is read and written: nothing in between can fault.
func sigactionStub(stubVA, tableVA uint64) ([]byte, stubLayout) {
	a := &asm{labels: map[string]int{}, fixups: map[int]string{}}
	var l stubLayout

	a.emit(0x48, 0x83, 0xf8, 0x0d) // cmp $13, %rax          (rt_sigaction?)
	a.jcc(ccNE, "slow")            // jne slow
	a.emit(0x49, 0x83, 0xfa, 0x08) // cmp $8, %r10           (sigsetsize)
	a.jcc(ccNE, "slow")            // jne slow
	a.emit(0x48, 0x8d, 0x47, 0xff) // lea -1(%rdi), %rax
	a.emit(0x48, 0x83, 0xf8, 0x3f) // cmp $63, %rax          (1 <= sig <= 64)
	a.jcc(ccA, "restore")          // ja restore
	a.emit(0x48, 0x85, 0xf6)       // test %rsi, %rsi        (act?)
	a.jcc(ccE, "noact")            // jz noact
	a.emit(0x48, 0x83, 0xff, 0x09) // cmp $9, %rdi           (SIGKILL may not be set)
	a.jcc(ccE, "restore")          // je restore
	a.emit(0x48, 0x83, 0xff, 0x13) // cmp $19, %rdi          (nor SIGSTOP)
	a.jcc(ccE, "restore")          // je restore
	a.jmp("frame")                 // jmp frame
	a.label("noact")
	a.emit(0x48, 0x85, 0xd2) // test %rdx, %rdx        (neither act nor oact:
	a.jcc(ccE, "restore")    // jz restore              the monitor answers)

	a.label("frame")
	a.emit(0x41, 0x53)             // push %r11              (RFLAGS at SYSCALL)
	a.emit(0x53)                   // push %rbx
	a.emit(0x48, 0x83, 0xec, 0x20) // sub $32, %rsp          (a struct sigaction)
	a.emit(0x48, 0x8d, 0x1d)       // lea table(%rip), %rbx
	a.rel32(int32(int64(tableVA) - int64(stubVA) - int64(len(a.b)+4)))
	a.emit(0x48, 0x85, 0xf6) // test %rsi, %rsi
	a.jcc(ccE, "read")       // jz read

	// Set: copy act to the buffer first, so that a bad act fails with
	// EFAULT before anything changed.
	l.actStart = len(a.b)
	for i := range 4 {
		if i == 0 {
			a.emit(0x48, 0x8b, 0x06)       // mov (%rsi), %rax
			a.emit(0x48, 0x89, 0x04, 0x24) // mov %rax, (%rsp)
		} else {
			a.emit(0x48, 0x8b, 0x46, byte(8*i))       // mov 8i(%rsi), %rax
			a.emit(0x48, 0x89, 0x44, 0x24, byte(8*i)) // mov %rax, 8i(%rsp)
		}
	}
	l.actEnd = len(a.b)
	a.emit(0x48, 0x81, 0x64, 0x24, 0x18) // andq $~(SIGKILL|SIGSTOP), 24(%rsp)
	a.rel32(unblockableMask)
	a.label("lock")
	a.emit(0x8b, 0x03)                   // mov (%rbx), %eax       (sequence)
	a.emit(0xa8, 0x01)                   // test $1, %al
	a.jcc(ccNE, "lockwait")              // jnz lockwait           (a writer holds it)
	a.emit(0x44, 0x8d, 0x58, 0x01)       // lea 1(%rax), %r11d
	a.emit(0xf0, 0x44, 0x0f, 0xb1, 0x1b) // lock cmpxchg %r11d, (%rbx)
	a.jcc(ccNE, "lock")                  // jnz lock               (another writer was first)
	// Locked: swap the buffer with the table's words.
	for i := range 4 {
		a.emit(0x48, 0x8b, 0x84, 0xfb) // mov T(%rbx,%rdi,8), %rax (old)
		a.rel32(tableWord(i))
		if i == 0 {
			a.emit(0x4c, 0x8b, 0x1c, 0x24) // mov (%rsp), %r11      (new)
		} else {
			a.emit(0x4c, 0x8b, 0x5c, 0x24, byte(8*i)) // mov 8i(%rsp), %r11
		}
		a.emit(0x4c, 0x89, 0x9c, 0xfb) // mov %r11, T(%rbx,%rdi,8)
		a.rel32(tableWord(i))
		if i == 0 {
			a.emit(0x48, 0x89, 0x04, 0x24) // mov %rax, (%rsp)
		} else {
			a.emit(0x48, 0x89, 0x44, 0x24, byte(8*i)) // mov %rax, 8i(%rsp)
		}
	}
	// Unlock: only the holder writes an odd sequence, and x86 keeps stores
	// in order, so a plain add publishes the words before the sequence.
	a.emit(0x83, 0x03, 0x01) // addl $1, (%rbx)
	a.jmp("out")             // jmp out

	// Read: copy the action to the buffer under the sequence.
	a.label("read")
	a.emit(0x8b, 0x03)      // mov (%rbx), %eax       (sequence)
	a.emit(0xa8, 0x01)      // test $1, %al
	a.jcc(ccNE, "readwait") // jnz readwait
	for i := range 4 {
		a.emit(0x4c, 0x8b, 0x9c, 0xfb) // mov T(%rbx,%rdi,8), %r11
		a.rel32(tableWord(i))
		if i == 0 {
			a.emit(0x4c, 0x89, 0x1c, 0x24) // mov %r11, (%rsp)
		} else {
			a.emit(0x4c, 0x89, 0x5c, 0x24, byte(8*i)) // mov %r11, 8i(%rsp)
		}
	}
	a.emit(0x3b, 0x03)  // cmp (%rbx), %eax       (unchanged?)
	a.jcc(ccNE, "read") // jne read

	// Copy the previous action to oact, if asked: after the lock is
	// released, so that a bad oact fails with EFAULT (having set act, as
	// Linux does) without the lock held.
	a.label("out")
	a.emit(0x48, 0x85, 0xd2) // test %rdx, %rdx
	a.jcc(ccE, "done")       // jz done
	l.oactStart = len(a.b)
	for i := range 4 {
		if i == 0 {
			a.emit(0x48, 0x8b, 0x04, 0x24) // mov (%rsp), %rax
			a.emit(0x48, 0x89, 0x02)       // mov %rax, (%rdx)
		} else {
			a.emit(0x48, 0x8b, 0x44, 0x24, byte(8*i)) // mov 8i(%rsp), %rax
			a.emit(0x48, 0x89, 0x42, byte(8*i))       // mov %rax, 8i(%rdx)
		}
	}
	l.oactEnd = len(a.b)
	a.label("done")
	a.emit(0x48, 0x83, 0xc4, 0x20)       // add $32, %rsp
	a.emit(0x5b)                         // pop %rbx
	a.emit(0x31, 0xc0)                   // xor %eax, %eax         (return 0)
	a.emit(0x9d)                         // popfq
	a.emit(0x4c, 0x8b, 0x5c, 0x24, 0xf8) // mov -8(%rsp), %r11     (as SYSCALL left it)
	a.emit(0xff, 0xe1)                   // jmp *%rcx

	a.label("lockwait")
	a.emit(0xf3, 0x90) // pause
	a.jmp("lock")
	a.label("readwait")
	a.emit(0xf3, 0x90) // pause
	a.jmp("read")

	a.label("restore")
	a.emit(0xb8, 0x0d, 0, 0, 0) // mov $13, %eax
	a.label("slow")
	a.emit(SyscallStubUser...)
	a.link()
	return a.b, l
}

// stubLayout is where the stub touches the caller's memory: act in
// [actStart, actEnd), oact in [oactStart, oactEnd).
type stubLayout struct{ actStart, actEnd, oactStart, oactEnd int }

var sigactionLayout = func() stubLayout {
	_, l := sigactionStub(0, 0)
	return l
}()

// SigactionFault says whether off (an offset into the stub page) is an
// instruction of the fast path that reads act or writes oact, and which.
// A fault there may still be the stack's, not the argument's: the monitor
// compares the fault address with the argument.
func SigactionFault(off uint64) SigactionPointer {
	l := sigactionLayout
	switch {
	case off >= uint64(l.actStart) && off < uint64(l.actEnd):
		return SigactionAct
	case off >= uint64(l.oactStart) && off < uint64(l.oactEnd):
		return SigactionOact
	}
	return SigactionNone
}
