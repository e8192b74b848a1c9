package elfimage

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenGoBinary(t *testing.T) {
	path := mustBuildGo(t, goBuild{})
	im, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if im.Entry != ef.Entry || im.Phent != phdrSize || im.Phnum != uint64(len(ef.Progs)) {
		t.Errorf("entry %#x phent %d phnum %d; want %#x 56 %d", im.Entry, im.Phent, im.Phnum, ef.Entry, len(ef.Progs))
	}
	if im.Phdr != 0x400040 { // the Go linker puts the headers at the start of text
		t.Errorf("Phdr = %#x, want 0x400040", im.Phdr)
	}
	if !strings.HasPrefix(im.GoVersion, "go") {
		t.Errorf("GoVersion = %q", im.GoVersion)
	}
	// Segments must be the PT_LOADs, in order, with the file's bytes.
	var want []*elf.Prog
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			want = append(want, p)
		}
	}
	if len(im.Segments) != len(want) {
		t.Fatalf("%d segments, want %d", len(im.Segments), len(want))
	}
	var mem uint64
	for i, s := range im.Segments {
		p := want[i]
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			t.Fatal(err)
		}
		if s.Vaddr != p.Vaddr || s.Memsz != p.Memsz || !bytes.Equal(s.Data, data) || s.Prot != protOf(p.Flags) {
			t.Errorf("segment %d: %#x+%#x %v differs from %v", i, s.Vaddr, s.Memsz, s.Prot, p.ProgHeader)
		}
		if s.Prot&Write != 0 && s.Prot&Exec != 0 {
			t.Errorf("segment %d is W+X", i)
		}
		mem += (s.Vaddr+s.Memsz+PageSize-1)&^(PageSize-1) - s.Vaddr&^(PageSize-1)
	}
	if im.MemSize() != mem {
		t.Errorf("MemSize = %#x, want %#x", im.MemSize(), mem)
	}
}

// symbolAddr looks a function up with debug/elf, independently of Image.
func symbolAddr(t *testing.T, path, name string) uint64 {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", path, name)
	return 0
}

func TestSymbolizeGoBinary(t *testing.T) {
	path := mustBuildGo(t, goBuild{})
	stripped := mustBuildGo(t, goBuild{flags: []string{"-ldflags=-s -w"}})
	for _, bin := range []struct{ name, path string }{{"symtab", path}, {"stripped", stripped}} {
		im, err := Open(bin.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range []string{"main.main", "runtime.main", "main.count"} {
			pc := symbolAddr(t, path, fn) // the stripped build has the same layout
			got, off, ok := im.Symbolize(pc + 3)
			if !ok || got != fn || off != 3 {
				t.Errorf("%s: Symbolize(%s+3) = %q+%d %v", bin.name, fn, got, off, ok)
			}
		}
		file, line, ok := im.Line(symbolAddr(t, path, "main.count"))
		if !ok || filepath.Base(file) != "main.go" || line < 6 || line > 10 {
			t.Errorf("%s: Line(main.count) = %s:%d %v, want main.go:6-10 (func count)", bin.name, file, line, ok)
		}
		if _, _, ok := im.Line(0x10); ok {
			t.Errorf("%s: Line found a position for pc 0x10", bin.name)
		}
		if fn, _, ok := im.Symbolize(0x10); ok {
			t.Errorf("%s: Symbolize(0x10) = %s", bin.name, fn)
		}
	}
}

func TestOpenRejectsRealBinaries(t *testing.T) {
	tests := []struct {
		name     string
		build    *goBuild // nil: use host
		host     []string // candidate host binaries
		optional bool     // skip if it does not build here
		kind     error
		want     string
	}{
		{name: "arm64", build: &goBuild{goarch: "arm64"}, kind: ErrMachine, want: "EM_AARCH64"},
		{name: "pie", build: &goBuild{flags: []string{"-buildmode=pie"}}, kind: ErrNotExec, want: "-buildmode=pie"},
		{name: "host dynamic", host: []string{"/bin/true", "/bin/ls", "/usr/bin/true"}, kind: ErrDynamic, want: "interpreter"},
		{name: "cgo dynamic", build: &goBuild{cgo: true}, optional: true, kind: ErrCgo, want: "CGO_ENABLED=0"},
		{name: "cgo static", build: &goBuild{cgo: true, flags: []string{"-ldflags=-linkmode=external -extldflags=-static"}}, optional: true, kind: ErrCgo, want: "CGO_ENABLED=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			if tt.build != nil {
				var err error
				path, err = buildGo(t, *tt.build)
				if err != nil && tt.optional {
					t.Skipf("cannot build here: %v", err)
				} else if err != nil {
					t.Fatal(err)
				}
			}
			for _, h := range tt.host {
				if _, err := os.Stat(h); err == nil && path == "" {
					path = h
				}
			}
			if path == "" {
				t.Skip("no such host binary")
			}
			_, err := Open(path)
			if err == nil {
				t.Fatalf("Open(%s) succeeded", path)
			}
			t.Log(err)
			checkError(t, err, path, tt.kind, tt.want)
		})
	}
}
