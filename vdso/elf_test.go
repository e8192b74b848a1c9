package vdso

import (
	"bytes"
	"debug/elf"
	"slices"
	"testing"
)

func parseImage(t *testing.T) (*elf.File, []byte) {
	t.Helper()
	img := Image()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	return f, img
}

func TestImageShape(t *testing.T) {
	f, img := parseImage(t)
	if len(img)%4096 != 0 || Size() != DataSize+len(img) {
		t.Errorf("len(Image()) = %d, Size() = %d", len(img), Size())
	}
	img[0] = 0
	if Image()[0] != 0x7f {
		t.Error("Image() returned shared memory")
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_DYN || f.Machine != elf.EM_X86_64 {
		t.Errorf("header %+v", f.FileHeader)
	}

	// Everything lies inside the image, and addresses equal offsets (the
	// image is linked at 0 and loaded as one piece).
	for _, s := range f.Sections {
		if s.Offset+s.Size > uint64(len(img)) {
			t.Errorf("section %s [%#x, +%#x) outside the image", s.Name, s.Offset, s.Size)
		}
		if s.Flags&elf.SHF_ALLOC != 0 && s.Addr != s.Offset {
			t.Errorf("section %s: addr %#x != offset %#x", s.Name, s.Addr, s.Offset)
		}
	}
	if len(f.Progs) != 2 {
		t.Fatalf("%d program headers, want PT_LOAD and PT_DYNAMIC", len(f.Progs))
	}
	load, dyn := f.Progs[0], f.Progs[1]
	if load.Type != elf.PT_LOAD || load.Off != 0 || load.Vaddr != 0 || load.Filesz != uint64(len(img)) ||
		load.Memsz != load.Filesz || load.Flags != elf.PF_R|elf.PF_X {
		t.Errorf("PT_LOAD %+v, want the whole image, R+X, at 0", load.ProgHeader)
	}
	ds := f.Section(".dynamic")
	if dyn.Type != elf.PT_DYNAMIC || dyn.Off != ds.Offset || dyn.Filesz != ds.Size {
		t.Errorf("PT_DYNAMIC %+v, want .dynamic at %#x", dyn.ProgHeader, ds.Offset)
	}
	for _, tag := range []elf.DynTag{elf.DT_HASH, elf.DT_GNU_HASH, elf.DT_STRTAB, elf.DT_SYMTAB, elf.DT_VERSYM, elf.DT_VERDEF} {
		v, err := f.DynValue(tag)
		if err != nil || len(v) != 1 || v[0] >= uint64(len(img)) {
			t.Errorf("%v = %v, %v; want one address inside the image", tag, v, err)
		}
	}
	if so, _ := f.DynString(elf.DT_SONAME); !slices.Equal(so, []string{"linux-vdso.so.1"}) {
		t.Errorf("DT_SONAME %q", so)
	}
}

func TestDynamicSymbols(t *testing.T) {
	f, _ := parseImage(t)
	text := f.Section(".text")
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]elf.Symbol{}
	for _, s := range syms {
		got[s.Name] = s
	}
	for _, tc := range []struct {
		name string
		bind elf.SymBind
	}{
		{"__vdso_clock_gettime", elf.STB_GLOBAL},
		{"__vdso_gettimeofday", elf.STB_GLOBAL},
		{"__vdso_time", elf.STB_GLOBAL},
		{"__vdso_clock_getres", elf.STB_GLOBAL},
		{"clock_gettime", elf.STB_WEAK},
		{"gettimeofday", elf.STB_WEAK},
		{"time", elf.STB_WEAK},
		{"clock_getres", elf.STB_WEAK},
	} {
		s, ok := got[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if elf.ST_BIND(s.Info) != tc.bind || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			t.Errorf("%s: bind %v type %v, want %v FUNC", tc.name, elf.ST_BIND(s.Info), elf.ST_TYPE(s.Info), tc.bind)
		}
		if !s.HasVersion || s.Version != "LINUX_2.6" || s.VersionIndex.IsHidden() {
			t.Errorf("%s: version %q (has %v, index %#x), want default LINUX_2.6", tc.name, s.Version, s.HasVersion, s.VersionIndex)
		}
		if f.Sections[s.Section] != text || s.Size == 0 || s.Value < text.Addr || s.Value+s.Size > text.Addr+text.Size {
			t.Errorf("%s: [%#x, +%#x) in section %d, want inside .text", tc.name, s.Value, s.Size, s.Section)
		}
	}
	if len(got) != 8 {
		t.Errorf("%d symbols, want 8 (no __vdso_getrandom: the runtime must use the syscall)", len(got))
	}

	vers, err := f.DynamicVersions()
	if err != nil {
		t.Fatal(err)
	}
	want := []elf.DynamicVersion{
		{Name: "linux-vdso.so.1", Index: 1, Flags: elf.VER_FLG_BASE},
		{Name: "LINUX_2.6", Index: 2},
	}
	if len(vers) != 2 || vers[0].Name != want[0].Name || vers[0].Index != 1 || vers[0].Flags != want[0].Flags ||
		vers[1].Name != want[1].Name || vers[1].Index != 2 || vers[1].Flags != 0 {
		t.Errorf("versions %+v, want %+v", vers, want)
	}
}
