package elfimage

import (
	"debug/elf"
	"encoding/binary"
)

// StringVar returns the value of the Go string variable named name (a
// package-level `var x string`, e.g. one set with go build -ldflags -X) as
// the image initialises it, and whether the image has the variable. It
// reads the symbol table directly, comparing names only of the symbols
// that can be a string variable (16-byte data objects): a walk of the
// table, cheap enough for every boot.
func (im *Image) StringVar(name string) (string, bool) {
	if im.ef == nil {
		return "", false
	}
	tab := im.ef.SectionByType(elf.SHT_SYMTAB)
	if !plainSection(tab, im.size) || int(tab.Link) >= len(im.ef.Sections) {
		return "", false
	}
	strtab := im.ef.Sections[tab.Link]
	if !plainSection(strtab, im.size) {
		return "", false
	}
	strs, ok := im.sectionBytes(strtab)
	if !ok {
		return "", false
	}
	syms, ok := im.sectionBytes(tab)
	if !ok {
		return "", false
	}
	for off := 0; off+24 <= len(syms); off += 24 {
		ent := syms[off : off+24] // Elf64_Sym
		if elf.ST_TYPE(ent[4]) != elf.STT_OBJECT || binary.LittleEndian.Uint64(ent[16:]) != 16 {
			continue
		}
		st := uint64(binary.LittleEndian.Uint32(ent[0:]))
		if st+uint64(len(name)) >= uint64(len(strs)) || string(strs[st:st+uint64(len(name))]) != name || strs[st+uint64(len(name))] != 0 {
			continue
		}
		hdr, ok := im.read(binary.LittleEndian.Uint64(ent[8:]), 16)
		if !ok {
			return "", false
		}
		ptr, n := binary.LittleEndian.Uint64(hdr), binary.LittleEndian.Uint64(hdr[8:])
		if n == 0 {
			return "", true
		}
		s, ok := im.read(ptr, n)
		return string(s), ok
	}
	return "", false
}

// sectionBytes returns the contents of s, a plainSection: a slice of the
// mapped file, or a copy read from it.
func (im *Image) sectionBytes(s *elf.Section) ([]byte, bool) {
	if im.file != nil {
		return im.file[s.Offset : s.Offset+s.Size], true // inside the file: checked by plainSection
	}
	b, err := s.Data()
	return b, err == nil
}

// read returns n bytes at guest address va from the segments' file data.
func (im *Image) read(va, n uint64) ([]byte, bool) {
	if n > 1<<20 {
		return nil, false
	}
	for _, s := range im.Segments {
		if va >= s.Vaddr && va-s.Vaddr <= uint64(len(s.Data)) && n <= uint64(len(s.Data))-(va-s.Vaddr) {
			return s.Data[va-s.Vaddr : va-s.Vaddr+n], true
		}
	}
	return nil, false
}
