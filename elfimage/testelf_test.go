package elfimage

import (
	"debug/elf"
	"encoding/binary"
)

// testELF describes a small hand-made ELF64 file. minimalELF returns a
// valid one; tests break one field at a time.
type testELF struct {
	class, data, version byte
	typ, machine         uint16
	entry                uint64
	phoff                uint64 // program header table offset
	phentsize            uint16
	phnum                int // -1: len(progs)
	progs                []testProg
	syms                 []testSym // if any, .symtab/.strtab/.shstrtab are written
	shstrCompressed      bool      // mark the section-name table SHF_COMPRESSED
	pcln                 []byte    // if set, a .gopclntab in a third, read-only segment
	size                 int       // if > 0, truncate or zero-pad the file to size
}

type testProg struct {
	typ, flags                       uint32
	off, vaddr, filesz, memsz, align uint64
}

type testSym struct {
	name        string
	value, size uint64
	typ         elf.SymType
}

// Layout of minimalELF: headers, then 9 bytes of code (exit(0)), then 16
// bytes of data in a second, writable segment with a page of bss.
const (
	codeOff  = 0xb0
	dataOff  = 0x100
	textAddr = 0x400000
	dataAddr = 0x401100
	fileEnd  = 0x110
	pclnOff  = 0x200
	pclnAddr = 0x404200
)

var exitCode = []byte{0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05} // mov $60,%eax; xor %edi,%edi; syscall

func minimalELF() *testELF {
	return &testELF{
		class: byte(elf.ELFCLASS64), data: byte(elf.ELFDATA2LSB), version: byte(elf.EV_CURRENT),
		typ: uint16(elf.ET_EXEC), machine: uint16(elf.EM_X86_64),
		entry: textAddr + codeOff, phoff: ehdrSize, phentsize: phdrSize, phnum: -1,
		progs: []testProg{
			{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R | elf.PF_X), off: 0, vaddr: textAddr, filesz: codeOff + uint64(len(exitCode)), memsz: codeOff + uint64(len(exitCode)), align: PageSize},
			{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R | elf.PF_W), off: dataOff, vaddr: dataAddr, filesz: 16, memsz: 0x1000, align: PageSize},
		},
	}
}

// withSyms adds a symbol table naming the code.
func (e *testELF) withSyms(extra ...testSym) *testELF {
	e.syms = append([]testSym{{name: "main.exit", value: textAddr + codeOff, size: uint64(len(exitCode)), typ: elf.STT_FUNC}}, extra...)
	return e
}

// withLines adds a Go pc-line table (see testPclntab) in its own segment;
// the program headers move past the code to make room for a third.
func (e *testELF) withLines() *testELF {
	e.pcln = testPclntab()
	e.phoff = fileEnd
	e.progs = append(e.progs, testProg{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R), off: pclnOff, vaddr: pclnAddr, filesz: uint64(len(e.pcln)), memsz: uint64(len(e.pcln)), align: PageSize})
	return e
}

// bytes encodes the file.
func (e *testELF) bytes() []byte {
	le := binary.LittleEndian
	b := make([]byte, fileEnd)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = e.class, e.data, e.version
	bo := binary.ByteOrder(le)
	if e.data == byte(elf.ELFDATA2MSB) {
		bo = binary.BigEndian
	}
	bo.PutUint16(b[16:], e.typ)
	bo.PutUint16(b[18:], e.machine)
	bo.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	bo.PutUint64(b[24:], e.entry)
	bo.PutUint64(b[32:], e.phoff)
	bo.PutUint16(b[52:], ehdrSize)
	bo.PutUint16(b[54:], e.phentsize)
	phnum := e.phnum
	if phnum < 0 {
		phnum = len(e.progs)
	}
	bo.PutUint16(b[56:], uint16(phnum))
	for i, p := range e.progs {
		off := int(e.phoff) + i*phdrSize
		for len(b) < off+phdrSize {
			b = append(b, 0)
		}
		ph := b[off:]
		bo.PutUint32(ph[0:], p.typ)
		bo.PutUint32(ph[4:], p.flags)
		bo.PutUint64(ph[8:], p.off)
		bo.PutUint64(ph[16:], p.vaddr)
		bo.PutUint64(ph[24:], p.vaddr)
		bo.PutUint64(ph[32:], p.filesz)
		bo.PutUint64(ph[40:], p.memsz)
		bo.PutUint64(ph[48:], p.align)
	}
	if len(b) < fileEnd {
		b = append(b, make([]byte, fileEnd-len(b))...)
	}
	copy(b[codeOff:], exitCode)
	copy(b[dataOff:], "morgana seed ELF")
	if e.pcln != nil {
		b = append(b, make([]byte, pclnOff-len(b))...)
		b = append(b, e.pcln...)
	}
	if len(e.syms) > 0 || e.pcln != nil {
		b = e.appendSections(b)
	}
	if e.size > 0 {
		if e.size < len(b) {
			b = b[:e.size]
		} else {
			b = append(b, make([]byte, e.size-len(b))...)
		}
	}
	return b
}

// appendSections writes .text, .symtab, .strtab, .shstrtab and, with a
// line table, .gopclntab, and points the ELF header at their headers.
func (e *testELF) appendSections(b []byte) []byte {
	le := binary.LittleEndian
	shstr := []byte("\x00.text\x00.symtab\x00.strtab\x00.shstrtab\x00.gopclntab\x00")
	strtab := []byte{0}
	symtab := make([]byte, 24) // symbol 0 is null
	for _, s := range e.syms {
		sym := make([]byte, 24)
		le.PutUint32(sym[0:], uint32(len(strtab)))
		sym[4] = byte(elf.STB_GLOBAL)<<4 | byte(s.typ)
		le.PutUint16(sym[6:], 1) // .text
		le.PutUint64(sym[8:], s.value)
		le.PutUint64(sym[16:], s.size)
		symtab = append(symtab, sym...)
		strtab = append(append(strtab, s.name...), 0)
	}
	symOff := uint64(len(b))
	b = append(b, symtab...)
	strOff := uint64(len(b))
	b = append(b, strtab...)
	shstrOff := uint64(len(b))
	b = append(b, shstr...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff := uint64(len(b))
	type shdr struct {
		name, typ   uint32
		flags, addr uint64
		off, size   uint64
		link, info  uint32
		entsize     uint64
	}
	shstrFlags := uint64(0)
	if e.shstrCompressed {
		shstrFlags = uint64(elf.SHF_COMPRESSED)
	}
	shdrs := []shdr{
		{},
		{name: 1, typ: uint32(elf.SHT_PROGBITS), flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR), addr: textAddr + codeOff, off: codeOff, size: uint64(len(exitCode))},
		{name: 7, typ: uint32(elf.SHT_SYMTAB), off: symOff, size: uint64(len(symtab)), link: 3, info: 1, entsize: 24},
		{name: 15, typ: uint32(elf.SHT_STRTAB), off: strOff, size: uint64(len(strtab))},
		{name: 23, typ: uint32(elf.SHT_STRTAB), flags: shstrFlags, off: shstrOff, size: uint64(len(shstr))},
	}
	if e.pcln != nil {
		shdrs = append(shdrs, shdr{name: 33, typ: uint32(elf.SHT_PROGBITS), flags: uint64(elf.SHF_ALLOC), addr: pclnAddr, off: pclnOff, size: uint64(len(e.pcln))})
	}
	for _, s := range shdrs {
		h := make([]byte, shdrSize)
		le.PutUint32(h[0:], s.name)
		le.PutUint32(h[4:], s.typ)
		le.PutUint64(h[8:], s.flags)
		le.PutUint64(h[16:], s.addr)
		le.PutUint64(h[24:], s.off)
		le.PutUint64(h[32:], s.size)
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[56:], s.entsize)
		b = append(b, h...)
	}
	le.PutUint64(b[40:], shoff)
	le.PutUint16(b[58:], shdrSize)
	le.PutUint16(b[60:], uint16(len(shdrs)))
	le.PutUint16(b[62:], 4)
	return b
}

// testPclntab is a Go 1.20 pc-line table describing one function,
// main.exit, covering exitCode and all on line 42 of main.go.
func testPclntab() []byte {
	le := binary.LittleEndian
	const hdrSize = 8 + 8*8
	names := []byte("main.exit\x00")
	cutab := []byte{0, 0, 0, 0} // CU 0, file 0: offset 0 in filetab
	files := []byte("main.go\x00")
	// pc-value tables: (zigzag value delta, pc delta) pairs from value -1,
	// ended by a zero delta. Offset 0 is left unused: it means "none".
	pctab := []byte{0, 86, byte(len(exitCode)), 0, 2, byte(len(exitCode)), 0}
	const pclnLine, pclnFile = 1, 4
	functab := make([]byte, 12+44) // entry 0, func offset, end; then the _func
	le.PutUint32(functab[0:], 0)
	le.PutUint32(functab[4:], 12)
	le.PutUint32(functab[8:], uint32(len(exitCode)))
	fn := functab[12:]
	le.PutUint32(fn[5*4:], pclnFile)
	le.PutUint32(fn[6*4:], pclnLine)
	le.PutUint32(fn[9*4:], 42) // startLine

	b := make([]byte, hdrSize)
	le.PutUint32(b[0:], pclnMagic120)
	b[6], b[7] = 1, 8 // pc quantum, pointer size
	word := func(i int, v uint64) { le.PutUint64(b[8+8*i:], v) }
	word(0, 1)                // nfunc
	word(1, 1)                // nfiles
	word(2, textAddr+codeOff) // textStart
	for i, part := range [][]byte{names, cutab, files, pctab, functab} {
		word(3+i, uint64(len(b)))
		b = append(b, part...)
	}
	return b
}
