package vdso

import (
	"debug/elf"
	"encoding/binary"
	"strings"
)

// writeHeaders writes the ELF header, program headers and section headers.
func writeHeaders(img []byte, secs []*section, dyn *section, shoff int, shstrndx uint16, shstr strtab) {
	le := binary.LittleEndian
	copy(img, elf.ELFMAG)
	img[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	img[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	img[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le.PutUint16(img[16:], uint16(elf.ET_DYN))
	le.PutUint16(img[18:], uint16(elf.EM_X86_64))
	le.PutUint32(img[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(img[32:], ehdrLen) // e_phoff
	le.PutUint64(img[40:], uint64(shoff))
	le.PutUint16(img[52:], ehdrLen)
	le.PutUint16(img[54:], phdrLen)
	le.PutUint16(img[56:], 2)
	le.PutUint16(img[58:], shdrLen)
	le.PutUint16(img[60:], uint16(len(secs)+1))
	le.PutUint16(img[62:], shstrndx)

	phdr := func(i int, typ elf.ProgType, flags elf.ProgFlag, off, size, align int) {
		p := img[ehdrLen+phdrLen*i:]
		le.PutUint32(p[0:], uint32(typ))
		le.PutUint32(p[4:], uint32(flags))
		for j, v := range []int{off, off, off, size, size, align} { // offset, vaddr, paddr, filesz, memsz, align
			le.PutUint64(p[8+8*j:], uint64(v))
		}
	}
	phdr(0, elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, len(img), 4096)
	phdr(1, elf.PT_DYNAMIC, elf.PF_R, dyn.off, len(dyn.data), 8)

	for i, s := range secs {
		h := img[shoff+shdrLen*(i+1):]
		le.PutUint32(h[0:], shstr.off(s.name))
		le.PutUint32(h[4:], uint32(s.typ))
		le.PutUint64(h[8:], uint64(s.flags))
		if s.flags&elf.SHF_ALLOC != 0 {
			le.PutUint64(h[16:], uint64(s.off)) // sh_addr
		}
		le.PutUint64(h[24:], uint64(s.off))
		le.PutUint64(h[32:], uint64(len(s.data)))
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[48:], uint64(s.align))
		le.PutUint64(h[56:], uint64(s.entsize))
	}
}

// strtab is an ELF string table.
type strtab struct{ data []byte }

func (t *strtab) add(s string) {
	if len(t.data) == 0 || s != "" {
		t.data = append(append(t.data, s...), 0)
	}
}

func (t *strtab) off(s string) uint32 {
	if s == "" {
		return 0
	}
	i := strings.Index(string(t.data), "\x00"+s+"\x00")
	if i < 0 {
		panic("vdso: string not in table: " + s)
	}
	return uint32(i + 1)
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }
