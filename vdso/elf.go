package vdso

import (
	"debug/elf"
	"encoding/binary"
	"slices"
	"strings"
)

// The image is a prelinked ET_DYN object at virtual address 0, laid out
// like Linux's own vDSO: one PT_LOAD covering the whole image, PT_DYNAMIC,
// and the dynamic symbol, hash and version tables the Go runtime's parser
// (runtime/vdso_linux.go) walks. Section headers are included for tools
// such as debug/elf, readelf and gdb.

const (
	soname  = "linux-vdso.so.1"
	version = "LINUX_2.6" // the version the Go runtime and glibc ask for
	ehdrLen = 64
	phdrLen = 56
	shdrLen = 64
	symLen  = 24
	dynLen  = 16
)

// section is one piece of the image; its data is filled in after layout
// when it depends on addresses.
type section struct {
	name       string
	typ        elf.SectionType
	flags      elf.SectionFlag
	align      int
	entsize    int
	link, info uint32
	data       []byte
	off        int // = virtual address
}

type export struct {
	name, fn string
	bind     elf.SymBind
}

// exports lists the dynamic symbols: each function under its __vdso_ name
// and, as Linux does, a weak alias without the prefix. __vdso_getrandom is
// deliberately absent; the Go runtime then uses the getrandom syscall.
func exports(a *assembler) []export {
	var out []export
	for _, f := range a.funcs {
		out = append(out,
			export{f.name, f.name, elf.STB_GLOBAL},
			export{strings.TrimPrefix(f.name, "__vdso_"), f.name, elf.STB_WEAK})
	}
	slices.SortStableFunc(out, func(x, y export) int {
		return int(gnuBucket(x.name)) - int(gnuBucket(y.name))
	})
	return out
}

// buildImage assembles the code and writes the ELF image.
func buildImage() []byte {
	a := assembleText()
	syms := exports(a)
	names := []string{""} // symbol 0 is the null symbol
	for _, s := range syms {
		names = append(names, s.name)
	}

	var str strtab
	str.add("")
	for _, s := range syms {
		str.add(s.name)
	}
	str.add(soname)
	str.add(version)

	versym := make([]byte, 2*len(names))
	for i := 1; i < len(names); i++ {
		binary.LittleEndian.PutUint16(versym[2*i:], 2) // LINUX_2.6
	}

	const (
		iHash = 1 + iota // section indexes (0 is the null section)
		iGNUHash
		iDynsym
		iDynstr
		iVersym
		iVerdef
		iDynamic
		iText
		iShstrtab
	)
	const ndyn = 11
	secs := []*section{
		{name: ".hash", typ: elf.SHT_HASH, flags: elf.SHF_ALLOC, align: 8, entsize: 4, link: iDynsym, data: sysvHashTable(names)},
		{name: ".gnu.hash", typ: elf.SHT_GNU_HASH, flags: elf.SHF_ALLOC, align: 8, link: iDynsym, data: gnuHashTable(names)},
		{name: ".dynsym", typ: elf.SHT_DYNSYM, flags: elf.SHF_ALLOC, align: 8, entsize: symLen, link: iDynstr, info: 1, data: make([]byte, symLen*len(names))},
		{name: ".dynstr", typ: elf.SHT_STRTAB, flags: elf.SHF_ALLOC, align: 1, data: str.data},
		{name: ".gnu.version", typ: elf.SHT_GNU_VERSYM, flags: elf.SHF_ALLOC, align: 2, entsize: 2, link: iDynsym, data: versym},
		{name: ".gnu.version_d", typ: elf.SHT_GNU_VERDEF, flags: elf.SHF_ALLOC, align: 8, link: iDynstr, info: 2, data: verdef(&str)},
		{name: ".dynamic", typ: elf.SHT_DYNAMIC, flags: elf.SHF_ALLOC, align: 8, entsize: dynLen, link: iDynstr, data: make([]byte, dynLen*ndyn)},
		{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, align: 16},
		{name: ".shstrtab", typ: elf.SHT_STRTAB, align: 1},
	}
	var shstr strtab
	shstr.add("")
	for _, s := range secs {
		shstr.add(s.name)
	}
	secs[iShstrtab-1].data = shstr.data
	secs[iText-1].data = a.code // final bytes after layout; same length

	off := ehdrLen + 2*phdrLen
	for _, s := range secs {
		off = alignUp(off, s.align)
		s.off = off
		off += len(s.data)
	}
	shoff := alignUp(off, 8)
	size := alignUp(shoff+shdrLen*(len(secs)+1), 4096)

	text := secs[iText-1]
	code, err := a.link(text.off)
	if err != nil {
		panic(err)
	}
	text.data = code

	for i, s := range syms {
		e := secs[iDynsym-1].data[symLen*(i+1):]
		f := a.funcs[slices.IndexFunc(a.funcs, func(f function) bool { return f.name == s.fn })]
		binary.LittleEndian.PutUint32(e[0:], str.off(s.name))
		e[4] = byte(elf.ST_INFO(s.bind, elf.STT_FUNC))
		binary.LittleEndian.PutUint16(e[6:], iText)
		binary.LittleEndian.PutUint64(e[8:], uint64(text.off+f.start))
		binary.LittleEndian.PutUint64(e[16:], uint64(f.end-f.start))
	}

	dyn := secs[iDynamic-1]
	addr := func(i int) uint64 { return uint64(secs[i-1].off) }
	for i, d := range [ndyn][2]uint64{
		{uint64(elf.DT_SONAME), uint64(str.off(soname))},
		{uint64(elf.DT_HASH), addr(iHash)},
		{uint64(elf.DT_GNU_HASH), addr(iGNUHash)},
		{uint64(elf.DT_STRTAB), addr(iDynstr)},
		{uint64(elf.DT_SYMTAB), addr(iDynsym)},
		{uint64(elf.DT_STRSZ), uint64(len(str.data))},
		{uint64(elf.DT_SYMENT), symLen},
		{uint64(elf.DT_VERSYM), addr(iVersym)},
		{uint64(elf.DT_VERDEF), addr(iVerdef)},
		{uint64(elf.DT_VERDEFNUM), 2},
		{uint64(elf.DT_NULL), 0},
	} {
		binary.LittleEndian.PutUint64(dyn.data[dynLen*i:], d[0])
		binary.LittleEndian.PutUint64(dyn.data[dynLen*i+8:], d[1])
	}

	img := make([]byte, size)
	writeHeaders(img, secs, dyn, shoff, uint16(iShstrtab), shstr)
	for _, s := range secs {
		copy(img[s.off:], s.data)
	}
	return img
}

// verdef returns the version definitions: the file itself (index 1, the
// base) and LINUX_2.6 (index 2), each with one name entry.
func verdef(str *strtab) []byte {
	const entry = 20 + 8 // Elf64_Verdef + one Elf64_Verdaux
	b := make([]byte, 2*entry)
	for i, name := range []string{soname, version} {
		e := b[entry*i:]
		binary.LittleEndian.PutUint16(e[0:], 1) // vd_version
		if i == 0 {
			binary.LittleEndian.PutUint16(e[2:], 1) // VER_FLG_BASE
		}
		binary.LittleEndian.PutUint16(e[4:], uint16(i+1)) // vd_ndx
		binary.LittleEndian.PutUint16(e[6:], 1)           // vd_cnt
		binary.LittleEndian.PutUint32(e[8:], sysvHash(name))
		binary.LittleEndian.PutUint32(e[12:], 20) // vd_aux
		if i == 0 {
			binary.LittleEndian.PutUint32(e[16:], entry) // vd_next
		}
		binary.LittleEndian.PutUint32(e[20:], str.off(name)) // vda_name; vda_next 0
	}
	return b
}
