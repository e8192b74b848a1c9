package x86

import (
	"encoding/binary"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

func TestSTAR(t *testing.T) {
	// SYSRET to 64-bit mode loads CS = base+16 and SS = base+8.
	base := STAR >> 48
	if cs := base + 16; cs|3 != UserCS {
		t.Errorf("sysret CS = %#x, want %#x", cs|3, UserCS)
	}
	if ss := base + 8; ss|3 != UserDS {
		t.Errorf("sysret SS = %#x, want %#x", ss|3, UserDS)
	}
	if cs := STAR >> 32 & 0xffff; cs != KernelCS {
		t.Errorf("syscall CS = %#x, want %#x", cs, KernelCS)
	}
}

func TestTSSDescriptor(t *testing.T) {
	b := make([]byte, GDTEntries*8)
	const base = 0xffff_ff80_1234_5678
	PutGDT(b, base)
	lo := binary.LittleEndian.Uint64(b[TSSSel:])
	hi := binary.LittleEndian.Uint64(b[TSSSel+8:])
	got := lo>>16&0xffffff | (lo>>56&0xff)<<24 | hi<<32
	if got != base {
		t.Errorf("TSS base = %#x, want %#x", got, uint64(base))
	}
	if typ := lo >> 40 & 0xf; typ != 0xb {
		t.Errorf("TSS type = %#x, want busy 64-bit TSS", typ)
	}
	if lim := lo&0xffff | (lo>>48&0xf)<<16; lim != TSSLimit {
		t.Errorf("TSS limit = %#x, want %#x", lim, TSSLimit)
	}
}

func TestIOBitmap(t *testing.T) {
	b := make([]byte, TSSLimit+1)
	PutTSS(b, 0x1000, []uint16{SyscallPort})
	bitmap := b[tssSize:]
	for p := 0; p < IOPorts; p++ {
		allowed := bitmap[p/8]&(1<<(p%8)) == 0
		if allowed != (p == SyscallPort) {
			t.Errorf("port %#x allowed = %v", p, allowed)
		}
	}
	if b[TSSLimit] != 0xff {
		t.Error("bitmap not terminated")
	}
}

// The stubs are hand-assembled; decode them to check they say what the
// comments claim.
func TestStubsDecode(t *testing.T) {
	tests := []struct {
		name string
		code []byte
		want []string
	}{
		{"user", SyscallStubUser, []string{"OUT 0xe0, AL", "JMP RCX"}},
		{"kernel", SyscallStubKernel, []string{"OUT 0xe0, AL", "REX.W SYSRET"}},
		{"#DE", ExceptionStub(VecDE), []string{"PUSH 0x0", "OUT 0xc0, AL", "ADD RSP, 0x8", "IRETQ"}},
		{"#PF", ExceptionStub(VecPF), []string{"OUT 0xce, AL", "ADD RSP, 0x8", "IRETQ"}},
	}
	for _, tt := range tests {
		var got []string
		for code := tt.code; len(code) > 0; {
			inst, err := x86asm.Decode(code, 64)
			if err != nil {
				t.Fatalf("%s: decode % x: %v", tt.name, code, err)
			}
			got = append(got, inst.String())
			code = code[inst.Len:]
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s[%d]: got %q, want %q", tt.name, i, got[i], tt.want[i])
			}
		}
		if len(tt.code) > ExceptionStubSize {
			t.Errorf("%s: %d bytes, more than %d", tt.name, len(tt.code), ExceptionStubSize)
		}
	}
}
