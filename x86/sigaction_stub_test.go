package x86

import (
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

const testStubVA, testTableVA = 0x7fff_ffff_e000, 0x7fff_ffff_c000

type stubInst struct {
	off  int
	inst x86asm.Inst
}

// decodeStub disassembles the whole stub.
func decodeStub(t *testing.T) []stubInst {
	t.Helper()
	code := SigactionStub(testStubVA, testTableVA)
	var insts []stubInst
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		insts = append(insts, stubInst{off, inst})
		off += inst.Len
	}
	return insts
}

// The stub's machine code, instruction by instruction (GNU syntax, jump
// targets as offsets into the stub): what the comments in sigactionStub
// say, as a disassembler reads the bytes.
func TestSigactionStubListing(t *testing.T) {
	want := []struct {
		off  int
		text string
	}{
		{0, "cmp $0xd,%rax"},
		{4, "jne 0x1a8"},
		{10, "cmp $0x8,%r10"},
		{14, "jne 0x1a8"},
		{20, "lea -0x1(%rdi),%rax"},
		{24, "cmp $0x3f,%rax"},
		{28, "ja 0x1a3"},
		{34, "test %rsi,%rsi"},
		{37, "je 0x44"},
		{43, "cmp $0x9,%rdi"},
		{47, "je 0x1a3"},
		{53, "cmp $0x13,%rdi"},
		{57, "je 0x1a3"},
		{63, "jmpq 0x4d"},
		// noact: neither act nor oact goes to the monitor
		{68, "test %rdx,%rdx"},
		{71, "je 0x1a3"},
		// frame: save RFLAGS and RBX, room for an action
		{77, "push %r11"},
		{79, "push %rbx"},
		{80, "sub $0x20,%rsp"},
		{84, "lea 0xffffdfa5(%rip),%rbx"},
		{91, "test %rsi,%rsi"},
		{94, "je 0x116"},
		// set: copy act (fault window: act)
		{100, "mov (%rsi),%rax"},
		{103, "mov %rax,(%rsp)"},
		{107, "mov 0x8(%rsi),%rax"},
		{111, "mov %rax,0x8(%rsp)"},
		{116, "mov 0x10(%rsi),%rax"},
		{120, "mov %rax,0x10(%rsp)"},
		{125, "mov 0x18(%rsi),%rax"},
		{129, "mov %rax,0x18(%rsp)"},
		{134, "andq $-0x40101,0x18(%rsp)"},
		// lock: sequence even -> odd by cmpxchg
		{143, "mov (%rbx),%eax"},
		{145, "test $0x1,%al"},
		{147, "jne 0x195"},
		{153, "lea 0x1(%rax),%r11d"},
		{157, "lock cmpxchg %r11d,(%rbx)"},
		{162, "jne 0x8f"},
		// locked: swap the buffer with the table
		{168, "mov 0x38(%rbx,%rdi,8),%rax"},
		{176, "mov (%rsp),%r11"},
		{180, "mov %r11,0x38(%rbx,%rdi,8)"},
		{188, "mov %rax,(%rsp)"},
		{192, "mov 0x238(%rbx,%rdi,8),%rax"},
		{200, "mov 0x8(%rsp),%r11"},
		{205, "mov %r11,0x238(%rbx,%rdi,8)"},
		{213, "mov %rax,0x8(%rsp)"},
		{218, "mov 0x438(%rbx,%rdi,8),%rax"},
		{226, "mov 0x10(%rsp),%r11"},
		{231, "mov %r11,0x438(%rbx,%rdi,8)"},
		{239, "mov %rax,0x10(%rsp)"},
		{244, "mov 0x638(%rbx,%rdi,8),%rax"},
		{252, "mov 0x18(%rsp),%r11"},
		{257, "mov %r11,0x638(%rbx,%rdi,8)"},
		{265, "mov %rax,0x18(%rsp)"},
		// unlock
		{270, "addl $0x1,(%rbx)"},
		{273, "jmpq 0x15b"},
		// read: copy the action under the sequence
		{278, "mov (%rbx),%eax"},
		{280, "test $0x1,%al"},
		{282, "jne 0x19c"},
		{288, "mov 0x38(%rbx,%rdi,8),%r11"},
		{296, "mov %r11,(%rsp)"},
		{300, "mov 0x238(%rbx,%rdi,8),%r11"},
		{308, "mov %r11,0x8(%rsp)"},
		{313, "mov 0x438(%rbx,%rdi,8),%r11"},
		{321, "mov %r11,0x10(%rsp)"},
		{326, "mov 0x638(%rbx,%rdi,8),%r11"},
		{334, "mov %r11,0x18(%rsp)"},
		{339, "cmp (%rbx),%eax"},
		{341, "jne 0x116"},
		// out: copy the old action to oact, if any (fault window: oact)
		{347, "test %rdx,%rdx"},
		{350, "je 0x186"},
		{356, "mov (%rsp),%rax"},
		{360, "mov %rax,(%rdx)"},
		{363, "mov 0x8(%rsp),%rax"},
		{368, "mov %rax,0x8(%rdx)"},
		{372, "mov 0x10(%rsp),%rax"},
		{377, "mov %rax,0x10(%rdx)"},
		{381, "mov 0x18(%rsp),%rax"},
		{386, "mov %rax,0x18(%rdx)"},
		// done: return 0
		{390, "add $0x20,%rsp"},
		{394, "pop %rbx"},
		{395, "xor %eax,%eax"},
		{397, "popfq"},
		{398, "mov -0x8(%rsp),%r11"},
		{403, "jmp *%rcx"},
		// lockwait
		{405, "pause"},
		{407, "jmpq 0x8f"},
		// readwait
		{412, "pause"},
		{414, "jmpq 0x116"},
		// restore: the call number, for the monitor
		{419, "mov $0xd,%eax"},
		// slow: the doorbell
		{424, "out %al,$0xe0"},
		{426, "jmp *%rcx"},
	}
	got := decodeStub(t)
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("missing %d: %s", want[i].off, want[i].text)
		case i >= len(want):
			t.Errorf("extra %d: %s", got[i].off, x86asm.GNUSyntax(got[i].inst, uint64(got[i].off), nil))
		default:
			text := x86asm.GNUSyntax(got[i].inst, uint64(got[i].off), nil)
			if got[i].off != want[i].off || text != want[i].text {
				t.Errorf("got %d: %s, want %d: %s", got[i].off, text, want[i].off, want[i].text)
			}
		}
	}
}

// memArg returns inst's memory operand, whether inst writes it (Intel
// order: the destination first) and whether it accesses it at all (LEA
// only computes the address).
func memArg(inst x86asm.Inst) (m x86asm.Mem, write, access bool) {
	for i, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok {
			return m, i == 0 && inst.Op != x86asm.CMP && inst.Op != x86asm.TEST, inst.Op != x86asm.LEA
		}
	}
	return x86asm.Mem{}, false, false
}

// What the monitor relies on, checked on the decoded stub rather than its
// listing: only the fault windows touch act and oact, and only as they
// should; the lock is taken once, and from there to its release the code
// is straight, touches only the table and the stack, and is the only code
// that writes the table; the table is the one given.
func TestSigactionStubProperties(t *testing.T) {
	insts := decodeStub(t)
	boundary := map[int]bool{}
	lock, unlock := -1, -1
	for i, in := range insts {
		boundary[in.off] = true
		m, write, access := memArg(in.inst)
		switch {
		case in.inst.Op == x86asm.CMPXCHG:
			if lock >= 0 || in.inst.Prefix[0] != x86asm.PrefixLOCK || m.Base != x86asm.RBX || m.Index != 0 || m.Disp != SigTableSeq {
				t.Errorf("%d: %v: want one LOCK CMPXCHG of the sequence", in.off, in.inst)
			}
			lock = i
		case access && write && m.Base == x86asm.RBX && m.Index == 0:
			if unlock >= 0 || in.inst.Op != x86asm.ADD || m.Disp != SigTableSeq {
				t.Errorf("%d: %v: want one write of the sequence, the release", in.off, in.inst)
			}
			unlock = i
		}
	}
	if lock < 0 || unlock < lock+2 || insts[lock+1].inst.Op != x86asm.JNE {
		t.Fatalf("no lock, retry and release (%d, %d)", lock, unlock)
	}

	tableDisp := map[int64]bool{}
	for _, d := range []int{SigTableHandler, SigTableFlags, SigTableRestorer, SigTableMask} {
		tableDisp[int64(d-8)] = true
	}
	var actLoads, oactStores, tableRefs int
	for i, in := range insts {
		inst, off := in.inst, in.off
		window := SigactionFault(uint64(off))
		m, write, access := memArg(inst)
		held := i > lock+1 && i < unlock
		switch {
		case access && m.Base == x86asm.RSI:
			if window != SigactionAct || write || m.Index != 0 || m.Disp != int64(8*actLoads) {
				t.Errorf("%d: %v: act is only read, in order, in the act window", off, inst)
			}
			actLoads++
		case access && m.Base == x86asm.RDX:
			if window != SigactionOact || !write || m.Index != 0 || m.Disp != int64(8*oactStores) {
				t.Errorf("%d: %v: oact is only written, in order, in the oact window", off, inst)
			}
			oactStores++
		case window != SigactionNone && !(access && m.Base == x86asm.RSP):
			t.Errorf("%d: %v: in a fault window but touches neither the arguments nor the stack", off, inst)
		case inst.Op == x86asm.LEA && m.Base == x86asm.RIP:
			if uint64(int64(testStubVA)+int64(off+inst.Len)+int64(int32(m.Disp))) != testTableVA {
				t.Errorf("%d: %v: does not reach the table", off, inst)
			}
			tableRefs++
		case access && m.Base == x86asm.RBX && m.Index == 0:
			if m.Disp != SigTableSeq {
				t.Errorf("%d: %v: not the sequence", off, inst)
			}
		case access && m.Base == x86asm.RBX:
			if m.Index != x86asm.RDI || m.Scale != 8 || !tableDisp[m.Disp] {
				t.Errorf("%d: %v: not a table word", off, inst)
			}
			if write && !held {
				t.Errorf("%d: %v: writes the table without the lock", off, inst)
			}
		}
		rel, isJump := inst.Args[0].(x86asm.Rel)
		if isJump && !boundary[off+inst.Len+int(rel)] {
			t.Errorf("%d: %v: jumps into the middle of an instruction", off, inst)
		}
		if held && (isJump || access && m.Base != x86asm.RBX && m.Base != x86asm.RSP) {
			t.Errorf("%d: %v: with the lock held, only straight code on the table and the stack", off, inst)
		}
	}
	if actLoads != 4 || oactStores != 4 || tableRefs != 1 {
		t.Errorf("%d loads of act, %d stores to oact, %d references to the table; want 4, 4, 1", actLoads, oactStores, tableRefs)
	}
	if SigactionFault(0) != SigactionNone {
		t.Error("the entry is in a fault window")
	}
	n := len(insts)
	if n < 2 || insts[n-2].inst.String() != "OUT 0xe0, AL" || insts[n-1].inst.String() != "JMP RCX" {
		t.Errorf("stub does not end in the doorbell")
	}
}

// The frame the monitor unwinds on EFAULT is the one the stub builds, and
// the new action's mask loses SIGKILL and SIGSTOP.
func TestSigactionStubFrame(t *testing.T) {
	var frame []string
	var mask int64
	for _, in := range decodeStub(t) {
		s := in.inst.String()
		switch {
		case s == "PUSH R11" || s == "PUSH RBX" || in.inst.Op == x86asm.SUB && in.inst.Args[0] == x86asm.RSP:
			frame = append(frame, s)
		case in.inst.Op == x86asm.AND:
			mask = int64(in.inst.Args[1].(x86asm.Imm))
		}
	}
	// RBX above the action, R11 (the flags) above RBX.
	want := []string{"PUSH R11", "PUSH RBX", "SUB RSP, 0x20"}
	if len(frame) != 3 || frame[0] != want[0] || frame[1] != want[1] || frame[2] != want[2] {
		t.Errorf("frame %q, want %q", frame, want)
	}
	if saved := []int{SigactionSavedRBX, SigactionSavedFlags, SigactionFrameSize}; saved[0] != 0x20 || saved[1] != 0x28 || saved[2] != 0x30 {
		t.Errorf("SigactionSaved* and SigactionFrameSize = %#x, do not describe %q", saved, want)
	}
	if uint64(mask) != ^uint64(1<<8|1<<18) {
		t.Errorf("mask %#x, want all but SIGKILL and SIGSTOP", uint64(mask))
	}
}
