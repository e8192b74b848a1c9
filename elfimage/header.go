package elfimage

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
)

// Sizes of the ELF64 structures this package decodes itself. The ELF and
// program headers are read by hand, not with debug/elf, so each check can
// give its own message and nothing is allocated from an unchecked count.
const (
	ehdrSize = 64
	phdrSize = 56
	shdrSize = 64
)

// header is the part of the ELF64 file header the loader needs.
type header struct {
	typ       elf.Type
	machine   elf.Machine
	entry     uint64
	phoff     uint64
	shoff     uint64
	phentsize uint16
	phnum     uint16
	shentsize uint16
	shnum     uint16
	shstrndx  uint16
}

// prog is one program header.
type prog struct {
	typ    elf.ProgType
	flags  elf.ProgFlag
	off    uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	align  uint64
}

var le = binary.LittleEndian

// readHeader reads and checks the identification and file header: an ELF
// file, 64-bit, little-endian, for x86-64.
func readHeader(name string, r io.ReaderAt, size int64) (*header, error) {
	var b [ehdrSize]byte
	n, err := r.ReadAt(b[:min(int64(len(b)), size)], 0)
	if n < 4 || string(b[:4]) != elf.ELFMAG {
		if err != nil && err != io.EOF && n < 4 {
			return nil, readErr(name, "ELF header", err)
		}
		return nil, &Error{Path: name, Kind: ErrNotELF, Detail: "no ELF magic number at the start"}
	}
	if n < elf.EI_NIDENT+4 {
		return nil, &Error{Path: name, Kind: ErrTruncated, Detail: fmt.Sprintf("ELF header cut short at %d bytes", n)}
	}
	// The identification bytes and e_type/e_machine have the same layout in
	// 32- and 64-bit files, so the machine can be named in every message.
	class, data := elf.Class(b[elf.EI_CLASS]), elf.Data(b[elf.EI_DATA])
	var bo binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	machine := elf.Machine(bo.Uint16(b[18:]))
	switch {
	case class != elf.ELFCLASS64:
		return nil, &Error{Path: name, Kind: ErrClass, Detail: fmt.Sprintf("class %v, machine %s; %s", class, machineName(machine), buildHint)}
	case data != elf.ELFDATA2LSB:
		return nil, &Error{Path: name, Kind: ErrByteOrder, Detail: fmt.Sprintf("encoding %v, machine %s; %s", data, machineName(machine), buildHint)}
	case elf.Version(b[elf.EI_VERSION]) != elf.EV_CURRENT:
		return nil, &Error{Path: name, Kind: ErrMalformed, Detail: fmt.Sprintf("ELF identification version %d", b[elf.EI_VERSION])}
	case machine != elf.EM_X86_64:
		return nil, &Error{Path: name, Kind: ErrMachine, Detail: fmt.Sprintf("machine is %s; %s", machineName(machine), buildHint)}
	}
	if n < ehdrSize {
		return nil, &Error{Path: name, Kind: ErrTruncated, Detail: fmt.Sprintf("ELF header cut short at %d bytes", n)}
	}
	h := &header{
		typ:       elf.Type(le.Uint16(b[16:])),
		machine:   machine,
		entry:     le.Uint64(b[24:]),
		phoff:     le.Uint64(b[32:]),
		shoff:     le.Uint64(b[40:]),
		phentsize: le.Uint16(b[54:]),
		phnum:     le.Uint16(b[56:]),
		shentsize: le.Uint16(b[58:]),
		shnum:     le.Uint16(b[60:]),
		shstrndx:  le.Uint16(b[62:]),
	}
	return h, nil
}

// buildHint says how to produce an image the monitor accepts.
const buildHint = "build the guest with CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build (or morgana build)"

// machineName names an ELF machine and, when there is one, its GOARCH.
func machineName(m elf.Machine) string {
	goarch := map[elf.Machine]string{
		elf.EM_386: "386", elf.EM_X86_64: "amd64", elf.EM_ARM: "arm",
		elf.EM_AARCH64: "arm64", elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64",
		elf.EM_S390: "s390x", elf.EM_MIPS: "mips", elf.EM_LOONGARCH: "loong64",
	}[m]
	if goarch == "" {
		return m.String()
	}
	return fmt.Sprintf("%v (GOARCH=%s)", m, goarch)
}

// readProgs reads the program header table. Its size is bounded by the
// 16-bit count and checked against the file before it is read.
func readProgs(name string, r io.ReaderAt, size int64, h *header) ([]prog, error) {
	if h.phnum == 0 {
		return nil, nil
	}
	if h.phnum == 0xffff { // PN_XNUM: count kept in section 0; no Go binary needs it
		return nil, &Error{Path: name, Kind: ErrMalformed, Detail: "extended program header numbering (PN_XNUM) is not supported"}
	}
	if h.phentsize != phdrSize {
		return nil, &Error{Path: name, Kind: ErrMalformed, Detail: fmt.Sprintf("program header entry size %d, want %d", h.phentsize, phdrSize)}
	}
	tableSize := uint64(h.phnum) * phdrSize
	if h.phoff > uint64(size) || tableSize > uint64(size)-h.phoff {
		return nil, &Error{Path: name, Kind: ErrTruncated, Detail: fmt.Sprintf("program header table [%#x, +%#x) beyond the end of the %d-byte file", h.phoff, tableSize, size)}
	}
	buf := make([]byte, tableSize)
	if _, err := r.ReadAt(buf, int64(h.phoff)); err != nil {
		return nil, readErr(name, "program headers", err)
	}
	progs := make([]prog, h.phnum)
	for i := range progs {
		b := buf[i*phdrSize:]
		progs[i] = prog{
			typ:    elf.ProgType(le.Uint32(b[0:])),
			flags:  elf.ProgFlag(le.Uint32(b[4:])),
			off:    le.Uint64(b[8:]),
			vaddr:  le.Uint64(b[16:]),
			filesz: le.Uint64(b[32:]),
			memsz:  le.Uint64(b[40:]),
			align:  le.Uint64(b[48:]),
		}
	}
	return progs, nil
}
