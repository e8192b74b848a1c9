package vdso

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

var update = flag.Bool("update", false, "rewrite testdata/text.golden")

// TestDisassembly decodes the linked .text with x86asm: it must decode
// completely, instruction for instruction as the assembler emitted it,
// each matching its written assembly text, branches landing on their
// labels and the RIP-relative load on the data page. The resulting listing
// is compared with testdata/text.golden (go test -update rewrites it).
func TestDisassembly(t *testing.T) {
	f, img := parseImage(t)
	text := f.Section(".text")
	code := img[text.Offset : text.Offset+text.Size]
	a := assembleText()
	if len(a.code) != len(code) {
		t.Fatalf(".text is %d bytes, the assembler emitted %d", len(code), len(a.code))
	}

	names := map[int]string{} // image offset -> label, for the listing
	for name, off := range a.labels {
		names[int(text.Offset)+off] = name
	}
	symname := func(addr uint64) (string, uint64) {
		if n, ok := names[int(addr)]; ok {
			return n, addr
		}
		return "", 0
	}

	var listing strings.Builder
	off := 0
	for i, want := range a.insns {
		pc := int(text.Offset) + off
		if n, ok := names[pc]; ok {
			fmt.Fprintf(&listing, "%s:\n", n)
		}
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			t.Fatalf("offset %#x: %v", pc, err)
		}
		if want.off != off || want.len != inst.Len {
			t.Fatalf("insn %d (%s): decoded at %#x len %d, emitted at %#x len %d", i, want.text, off, inst.Len, want.off, want.len)
		}
		got := x86asm.IntelSyntax(inst, uint64(pc), nil)
		switch want.kind {
		case plain:
			if got != want.text {
				t.Errorf("%#x: bytes decode as %q, source says %q", pc, got, want.text)
			}
		case branch:
			rel, ok := inst.Args[0].(x86asm.Rel)
			target := pc + inst.Len + int(rel)
			if !ok || !strings.HasPrefix(got, want.text+" ") || target != int(text.Offset)+a.labels[want.target] {
				t.Errorf("%#x: %q, want %s to %s", pc, got, want.text, want.target)
			}
		case dataPage:
			mem, ok := inst.Args[1].(x86asm.Mem)
			if !ok || inst.Op != x86asm.LEA || inst.Args[0] != x86asm.R8 || mem.Base != x86asm.RIP ||
				pc+inst.Len+int(int32(mem.Disp)) != -DataSize {
				t.Errorf("%#x: %q, want lea r8 of the data page", pc, got)
			}
		}
		line := x86asm.IntelSyntax(inst, uint64(pc), symname)
		if want.kind == dataPage {
			line += " ; data page = image-0x1000"
		}
		fmt.Fprintf(&listing, "  %04x  %-22x %s\n", pc, code[off:off+inst.Len], line)
		off += inst.Len
	}
	if off != len(code) {
		t.Fatalf("decoded %d of %d bytes", off, len(code))
	}

	golden := filepath.Join("testdata", "text.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(listing.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if listing.String() != string(want) {
		t.Errorf("listing differs from %s (go test -run Disassembly -update to accept):\n%s", golden, listing.String())
	}
}
