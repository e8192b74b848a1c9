package elfimage

import (
	"bytes"
	"debug/elf"
	"errors"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func parseBytes(b []byte) (*Image, error) {
	return Parse("test.elf", bytes.NewReader(b), int64(len(b)))
}

func TestParseMinimal(t *testing.T) {
	im, err := parseBytes(minimalELF().bytes())
	if err != nil {
		t.Fatal(err)
	}
	if im.Entry != textAddr+codeOff || im.Phdr != textAddr+ehdrSize || im.Phent != phdrSize || im.Phnum != 2 {
		t.Errorf("entry %#x phdr %#x phent %d phnum %d", im.Entry, im.Phdr, im.Phent, im.Phnum)
	}
	if len(im.Segments) != 2 {
		t.Fatalf("%d segments, want 2", len(im.Segments))
	}
	text, data := im.Segments[0], im.Segments[1]
	if text.Vaddr != textAddr || text.Prot != Read|Exec || !bytes.Equal(text.Data[codeOff:], exitCode) {
		t.Errorf("text segment %#x %v %x", text.Vaddr, text.Prot, text.Data)
	}
	if data.Vaddr != dataAddr || data.Memsz != 0x1000 || data.Prot != Read|Write || string(data.Data) != "morgana seed ELF" {
		t.Errorf("data segment %#x %#x %v %q", data.Vaddr, data.Memsz, data.Prot, data.Data)
	}
	// text: one page; data: [0x401000, 0x402100) rounds to two pages.
	if got := im.MemSize(); got != 3*PageSize {
		t.Errorf("MemSize = %#x, want %#x", got, 3*PageSize)
	}
	// The data segment's file bytes fit its first page; its second is all BSS.
	if got := im.FileSize(); got != 2*PageSize {
		t.Errorf("FileSize = %#x, want %#x", got, 2*PageSize)
	}
	if im.GoVersion != "" {
		t.Errorf("GoVersion = %q for a non-Go file", im.GoVersion)
	}
	if _, _, ok := im.Symbolize(im.Entry); ok {
		t.Error("Symbolize found a symbol in a file without symbols")
	}
	if _, _, ok := im.Line(im.Entry); ok {
		t.Error("Line found a position in a file without a line table")
	}
}

func TestParseSymbols(t *testing.T) {
	im, err := parseBytes(minimalELF().withSyms().bytes())
	if err != nil {
		t.Fatal(err)
	}
	fn, off, ok := im.Symbolize(textAddr + codeOff + 5)
	if !ok || fn != "main.exit" || off != 5 {
		t.Errorf("Symbolize = %q+%d %v, want main.exit+5", fn, off, ok)
	}
	if _, _, ok := im.Symbolize(textAddr + codeOff + uint64(len(exitCode))); ok {
		t.Error("Symbolize matched a pc past the end of the only function")
	}
	if _, _, ok := im.Symbolize(textAddr); ok {
		t.Error("Symbolize matched a pc before the first function")
	}
}

func TestParseLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		elf  *testELF
	}{
		{"symtab", minimalELF().withSyms().withLines()},
		{"no symtab", minimalELF().withLines()},
	} {
		im, err := parseBytes(tt.elf.bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Segments) != 3 || im.Segments[2].Prot != Read {
			t.Fatalf("%s: segments %+v", tt.name, im.Segments)
		}
		file, line, ok := im.Line(textAddr + codeOff + 4)
		if !ok || file != "main.go" || line != 42 {
			t.Errorf("%s: Line = %s:%d %v, want main.go:42", tt.name, file, line, ok)
		}
		fn, off, ok := im.Symbolize(textAddr + codeOff + 4)
		if !ok || fn != "main.exit" || off != 4 {
			t.Errorf("%s: Symbolize = %s+%d %v, want main.exit+4", tt.name, fn, off, ok)
		}
		if _, _, ok := im.Line(textAddr + codeOff + uint64(len(exitCode))); ok {
			t.Errorf("%s: Line found a position past the function", tt.name)
		}
	}
}

func TestParseRejects(t *testing.T) {
	load := func(mod func(p *testProg)) func(e *testELF) {
		return func(e *testELF) { mod(&e.progs[1]) }
	}
	const tb = 10 << 40
	tests := []struct {
		name string
		raw  []byte         // the file, if not a modified minimalELF
		mod  func(*testELF) // change to minimalELF
		kind error
		want string // substring of the message
	}{
		{name: "empty", raw: []byte{}, kind: ErrNotELF},
		{name: "text", raw: []byte("#!/bin/sh\necho hi\n"), kind: ErrNotELF, want: "magic"},
		{name: "magic only", raw: []byte("\x7fELF"), kind: ErrTruncated},
		{name: "truncated header", mod: func(e *testELF) { e.size = 40 }, kind: ErrTruncated},
		{name: "32-bit", mod: func(e *testELF) { e.class = byte(elf.ELFCLASS32); e.machine = uint16(elf.EM_386) }, kind: ErrClass, want: "EM_386"},
		{name: "big-endian", mod: func(e *testELF) { e.data = byte(elf.ELFDATA2MSB); e.machine = uint16(elf.EM_PPC64) }, kind: ErrByteOrder, want: "EM_PPC64"},
		{name: "bad ident version", mod: func(e *testELF) { e.version = 7 }, kind: ErrMalformed},
		{name: "arm64", mod: func(e *testELF) { e.machine = uint16(elf.EM_AARCH64) }, kind: ErrMachine, want: "EM_AARCH64 (GOARCH=arm64)"},
		{name: "riscv", mod: func(e *testELF) { e.machine = uint16(elf.EM_RISCV) }, kind: ErrMachine, want: "EM_RISCV"},
		{name: "pie", mod: func(e *testELF) { e.typ = uint16(elf.ET_DYN) }, kind: ErrNotExec, want: "-buildmode=pie"},
		{name: "object file", mod: func(e *testELF) { e.typ = uint16(elf.ET_REL) }, kind: ErrNotExec, want: "ET_REL"},
		{name: "core", mod: func(e *testELF) { e.typ = uint16(elf.ET_CORE) }, kind: ErrNotExec, want: "core"},
		{name: "interp", mod: func(e *testELF) {
			e.phoff = fileEnd // room for a third header
			e.progs = append(e.progs, testProg{typ: uint32(elf.PT_INTERP), off: dataOff, filesz: 7})
		}, kind: ErrDynamic, want: `"morgana"`},
		{name: "dynamic", mod: func(e *testELF) {
			e.phoff = fileEnd // room for a third header
			e.progs = append(e.progs, testProg{typ: uint32(elf.PT_DYNAMIC), off: dataOff, vaddr: dataAddr, filesz: 16, memsz: 16})
		}, kind: ErrDynamic, want: "PT_DYNAMIC"},
		{name: "cgo symbol", mod: func(e *testELF) {
			e.withSyms(testSym{name: "x_cgo_init", value: textAddr + codeOff + 2, typ: elf.STT_FUNC})
		}, kind: ErrCgo, want: "x_cgo_init"},
		{name: "compressed names", mod: func(e *testELF) { e.withSyms(); e.shstrCompressed = true }, kind: ErrMalformed, want: "compressed"},
		{name: "no headers", mod: func(e *testELF) { e.progs = nil }, kind: ErrNoLoad},
		{name: "no load", mod: func(e *testELF) {
			e.progs = []testProg{{typ: uint32(elf.PT_NOTE), off: dataOff, filesz: 16}}
		}, kind: ErrNoLoad},
		{name: "only empty load", mod: func(e *testELF) { e.progs = e.progs[1:]; e.progs[0].filesz, e.progs[0].memsz = 0, 0 }, kind: ErrNoLoad},
		{name: "phentsize", mod: func(e *testELF) { e.phentsize = 32 }, kind: ErrMalformed, want: "entry size 32"},
		{name: "pn_xnum", mod: func(e *testELF) { e.phnum = 0xffff }, kind: ErrMalformed, want: "PN_XNUM"},
		{name: "headers past eof", mod: func(e *testELF) { e.phnum = 1000 }, kind: ErrTruncated, want: "program header table"},
		{name: "phoff past eof", mod: func(e *testELF) { e.phoff = 1 << 62; e.progs = nil; e.phnum = 1 }, kind: ErrTruncated},
		{name: "offset past eof", mod: load(func(p *testProg) { p.off = 0x10100 }), kind: ErrSegmentFile},
		{name: "filesz past eof", mod: load(func(p *testProg) { p.filesz = 0x800 }), kind: ErrSegmentFile},
		{name: "offset wraps", mod: load(func(p *testProg) { p.off = ^uint64(0) - 7 }), kind: ErrSegmentFile},
		{name: "filesz > memsz", mod: load(func(p *testProg) { p.filesz = 0x2000 }), kind: ErrSegmentSize},
		{name: "10 TB filesz", mod: load(func(p *testProg) { p.filesz, p.memsz = tb, tb }), kind: ErrTooLarge},
		{name: "10 TB filesz small memsz", mod: load(func(p *testProg) { p.filesz = tb }), kind: ErrSegmentSize},
		{name: "3 GiB filesz", mod: load(func(p *testProg) { p.filesz, p.memsz = 3<<30, 3<<30 }), kind: ErrSegmentFile},
		{name: "5 GiB bss", mod: load(func(p *testProg) { p.memsz = 5 << 30 }), kind: ErrTooLarge},
		{name: "total too large", mod: func(e *testELF) {
			e.progs[1].memsz = 3 << 30
			e.progs = append(e.progs, testProg{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R), vaddr: 0x100000000, memsz: 3 << 30, align: PageSize})
			e.phoff = fileEnd
		}, kind: ErrTooLarge, want: "total"},
		{name: "incongruent", mod: load(func(p *testProg) { p.vaddr += 0x10 }), kind: ErrAlign},
		{name: "overlap same page", mod: load(func(p *testProg) { p.vaddr = textAddr + dataOff }), kind: ErrOverlap},
		{name: "overlap identical", mod: load(func(p *testProg) { p.vaddr, p.off = textAddr, 0 }), kind: ErrOverlap},
		{name: "overlap contained", mod: func(e *testELF) { e.progs[0].memsz = 0x10000 }, kind: ErrOverlap},
		{name: "page zero", mod: load(func(p *testProg) { p.vaddr = 0x100 }), kind: ErrAddress},
		{name: "below min", mod: load(func(p *testProg) { p.vaddr = MinAddr - PageSize + 0x100 }), kind: ErrAddress},
		{name: "above max", mod: load(func(p *testProg) { p.vaddr = MaxAddr - 0x10 + 0x100 }), kind: ErrAddress},
		{name: "kernel half", mod: load(func(p *testProg) { p.vaddr = 0xffffffff80000100 }), kind: ErrAddress},
		{name: "wraps", mod: load(func(p *testProg) { p.vaddr = ^uint64(0) - 0xeff }), kind: ErrAddress, want: "wraps"},
		{name: "entry outside", mod: func(e *testELF) { e.entry = 0x500000 }, kind: ErrEntry, want: "0x500000"},
		{name: "entry in data", mod: func(e *testELF) { e.entry = dataAddr }, kind: ErrEntry},
		{name: "entry zero", mod: func(e *testELF) { e.entry = 0 }, kind: ErrEntry},
		{name: "w+x", mod: load(func(p *testProg) { p.flags |= uint32(elf.PF_X) }), kind: ErrWX},
		{name: "truncated data", mod: func(e *testELF) { e.size = dataOff + 8 }, kind: ErrSegmentFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.raw
			if b == nil {
				e := minimalELF()
				tt.mod(e)
				b = e.bytes()
			}
			im, err := parseBytes(b)
			if err == nil {
				t.Fatalf("Parse succeeded (%d segments), want %v", len(im.Segments), tt.kind)
			}
			checkError(t, err, "test.elf", tt.kind, tt.want)
		})
	}
}

// checkError checks an error's kind and that it is one line naming the file.
func checkError(t *testing.T, err error, path string, kind error, want string) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, kind) {
		t.Errorf("error %q is not %q", msg, kind)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != path {
		t.Errorf("error %q is not an *Error for %s", msg, path)
	}
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, path+": ") {
		t.Errorf("message is not one line starting with the file name: %q", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("message %q does not mention %q", msg, want)
	}
}

// TestParseHugeNoAlloc checks that absurd sizes fail before allocating.
func TestParseHugeNoAlloc(t *testing.T) {
	e := minimalELF()
	e.progs[1].filesz, e.progs[1].memsz = 10<<40, 10<<40
	b := e.bytes()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := parseBytes(b)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("Parse accepted a 10 TB segment")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("Parse allocated %d bytes before rejecting", n)
	}
}

func TestParseAllowsSmallAlign(t *testing.T) {
	// Congruence matters only when p_align asks for page alignment.
	e := minimalELF()
	e.progs[1].vaddr += 0x10
	e.progs[1].align = 16
	if _, err := parseBytes(e.bytes()); err != nil {
		t.Fatal(err)
	}
}

func TestParsePhdrNotLoaded(t *testing.T) {
	// Program headers outside every segment: AT_PHDR is 0.
	e := minimalELF()
	e.progs[0].off, e.progs[0].vaddr = codeOff, textAddr+codeOff
	e.progs[0].filesz, e.progs[0].memsz = uint64(len(exitCode)), uint64(len(exitCode))
	im, err := parseBytes(e.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if im.Phdr != 0 {
		t.Errorf("Phdr = %#x, want 0", im.Phdr)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err == nil || !errors.Is(err, ErrNotELF) {
		t.Errorf("Open(dir) = %v, want ErrNotELF", err)
	}
	if _, err := Open(dir + "/missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open(missing) = %v", err)
	}
	// A FIFO without a writer: refused at once, not waited on.
	fifo := dir + "/fifo"
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fifo); err == nil || !errors.Is(err, ErrNotELF) {
		t.Errorf("Open(fifo) = %v, want ErrNotELF", err)
	}
}

func TestProtValues(t *testing.T) {
	if Read != unix.PROT_READ || Write != unix.PROT_WRITE || Exec != unix.PROT_EXEC {
		t.Errorf("Prot bits %d %d %d differ from PROT_READ/WRITE/EXEC", Read, Write, Exec)
	}
}

func TestProtString(t *testing.T) {
	for p, want := range map[Prot]string{0: "---", Read: "r--", Read | Exec: "r-x", Read | Write: "rw-", Read | Write | Exec: "rwx"} {
		if got := p.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", p, got, want)
		}
	}
}
