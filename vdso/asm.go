package vdso

import (
	"encoding/binary"
	"fmt"
)

// assembler collects hand-encoded x86-64 instructions. Every instruction
// carries its assembly text (in x86asm.IntelSyntax form), which the
// disassembly test checks against the bytes, so the listing cannot drift
// from the code. Branches are always rel32 and resolved by link.
type assembler struct {
	code   []byte
	insns  []insn
	labels map[string]int // "fn.name" or "fn" -> offset in code
	funcs  []function
	fn     string // current function, the scope of local labels
}

// insnKind says how an instruction's operand depends on the layout.
type insnKind int

const (
	plain    insnKind = iota
	branch            // rel32 to a label
	dataPage          // rip-relative to the start of the data page
)

type insn struct {
	off, len int
	text     string // assembly; for branches the mnemonic only
	kind     insnKind
	target   string // branch: resolved label name
}

type function struct {
	name       string
	start, end int
}

func newAssembler() *assembler {
	return &assembler{labels: map[string]int{}}
}

// op emits one instruction given as bytes.
func (a *assembler) op(text string, b ...byte) {
	a.insns = append(a.insns, insn{off: len(a.code), len: len(b), text: text})
	a.code = append(a.code, b...)
}

// begin starts the exported function name; end closes it.
func (a *assembler) begin(name string) {
	a.fn = name
	a.labels[name] = len(a.code)
	a.funcs = append(a.funcs, function{name: name, start: len(a.code)})
}

func (a *assembler) end() {
	a.funcs[len(a.funcs)-1].end = len(a.code)
	a.fn = ""
}

// label defines a label local to the current function.
func (a *assembler) label(name string) {
	a.labels[a.fn+"."+name] = len(a.code)
}

// jccOpcodes maps branch mnemonics to their rel32 opcode bytes.
var jccOpcodes = map[string][]byte{
	"jmp":  {0xe9},
	"jnb":  {0x0f, 0x83}, // CF=0 (also jae, jnc)
	"jz":   {0x0f, 0x84},
	"jnz":  {0x0f, 0x85},
	"jnbe": {0x0f, 0x87}, // CF=0 && ZF=0 (ja)
	"jns":  {0x0f, 0x89},
}

// jump emits a rel32 branch to a label local to the current function.
func (a *assembler) jump(mnemonic, target string) {
	opc, ok := jccOpcodes[mnemonic]
	if !ok {
		panic("vdso: unknown branch " + mnemonic)
	}
	a.insns = append(a.insns, insn{off: len(a.code), len: len(opc) + 4,
		text: mnemonic, kind: branch, target: a.fn + "." + target})
	a.code = append(a.code, opc...)
	a.code = append(a.code, 0, 0, 0, 0)
}

// leaData emits "lea r8, [rip+disp32]" with r8 = start of the data page,
// which lies DataSize bytes before the image.
func (a *assembler) leaData() {
	a.insns = append(a.insns, insn{off: len(a.code), len: 7,
		text: "lea r8, ptr [data page]", kind: dataPage})
	a.code = append(a.code, 0x4c, 0x8d, 0x05, 0, 0, 0, 0)
}

// link resolves branches and data references for code placed at image
// offset origin, and returns the finished bytes.
func (a *assembler) link(origin int) ([]byte, error) {
	out := append([]byte(nil), a.code...)
	for _, in := range a.insns {
		next := in.off + in.len
		var disp int
		switch in.kind {
		case branch:
			t, ok := a.labels[in.target]
			if !ok {
				return nil, fmt.Errorf("vdso: undefined label %s", in.target)
			}
			disp = t - next
		case dataPage:
			disp = -DataSize - (origin + next)
		default:
			continue
		}
		binary.LittleEndian.PutUint32(out[next-4:], uint32(int32(disp)))
	}
	return out, nil
}
