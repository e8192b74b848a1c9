package elfimage

import (
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzParse from the hand-made ELFs")

// fuzzSeeds are the small hand-made files in the seed corpus.
func fuzzSeeds() map[string][]byte {
	seeds := map[string][]byte{}
	add := func(name string, mod func(e *testELF)) {
		e := minimalELF()
		if mod != nil {
			mod(e)
		}
		seeds[name] = e.bytes()
	}
	add("valid-minimal", nil)
	add("valid-symbols", func(e *testELF) { e.withSyms() })
	add("valid-lines", func(e *testELF) { e.withLines() })
	add("truncated-header", func(e *testELF) { e.size = 40 })
	add("wx", func(e *testELF) { e.progs[1].flags |= uint32(elf.PF_X) })
	add("overlap", func(e *testELF) { e.progs[1].vaddr = textAddr + dataOff })
	add("filesz-gt-memsz", func(e *testELF) { e.progs[1].filesz = 0x2000 })
	add("huge", func(e *testELF) { e.progs[1].filesz, e.progs[1].memsz = 10<<40, 10<<40 })
	add("interp", func(e *testELF) {
		e.phoff = fileEnd
		e.progs = append(e.progs, testProg{typ: uint32(elf.PT_INTERP), off: dataOff, filesz: 7})
	})
	add("cgo-symbol", func(e *testELF) {
		e.withSyms(testSym{name: "x_cgo_init", value: textAddr + codeOff, typ: elf.STT_FUNC})
	})
	add("class32", func(e *testELF) { e.class = byte(elf.ELFCLASS32) })
	return seeds
}

// TestFuzzSeeds keeps the committed corpus in step with the hand-made
// ELFs; run with -update-seeds after changing them.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	for name, b := range fuzzSeeds() {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		path := filepath.Join(dir, name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale: run go test -run TestFuzzSeeds -update-seeds", path)
		}
	}
}

// FuzzParse checks that Parse never panics, that every rejection is a
// one-line *Error, and that every accepted Image keeps its promises.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := parseBytes(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		checkImage(t, im, len(b))
		im.Symbolize(im.Entry)
		im.Line(im.Entry)
	})
}

// checkImage checks the invariants of an accepted Image.
func checkImage(t *testing.T, im *Image, fileSize int) {
	t.Helper()
	if len(im.Segments) == 0 {
		t.Fatal("no segments")
	}
	var prevEnd, total uint64
	entryOK := false
	for i, s := range im.Segments {
		start := s.Vaddr &^ (PageSize - 1)
		end := (s.Vaddr + s.Memsz + PageSize - 1) &^ (PageSize - 1)
		switch {
		case s.Memsz == 0 || s.Memsz > MaxSize:
			t.Errorf("segment %d: memsz %#x", i, s.Memsz)
		case uint64(len(s.Data)) > s.Memsz || len(s.Data) > fileSize:
			t.Errorf("segment %d: %d data bytes, memsz %#x, file %d", i, len(s.Data), s.Memsz, fileSize)
		case start < MinAddr || end > MaxAddr || end <= start:
			t.Errorf("segment %d: [%#x, %#x) out of range", i, start, end)
		case i > 0 && start < prevEnd:
			t.Errorf("segment %d overlaps or is out of order", i)
		case s.Prot&Write != 0 && s.Prot&Exec != 0:
			t.Errorf("segment %d is W+X", i)
		}
		if s.Prot&Exec != 0 && im.Entry >= s.Vaddr && im.Entry-s.Vaddr < s.Memsz {
			entryOK = true
		}
		prevEnd = end
		total += end - start
	}
	if total > MaxSize || im.MemSize() != total {
		t.Errorf("MemSize %#x, total %#x", im.MemSize(), total)
	}
	if !entryOK {
		t.Errorf("entry %#x not in an executable segment", im.Entry)
	}
	if im.Phent != phdrSize || im.Phnum == 0 {
		t.Errorf("phent %d phnum %d", im.Phent, im.Phnum)
	}
}
