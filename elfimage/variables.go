package elfimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
)

// StringVar returns the value of the Go string variable named name (a
// package-level `var x string`, e.g. one set with go build -ldflags -X) as
// the image initialises it, and whether the image has the variable. It
// reads the symbol table directly: a name that is not in the string table
// costs one scan of that table, so asking for an absent variable at every
// boot is cheap.
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
	strs, err := strtab.Data()
	if err != nil {
		return "", false
	}
	want := append([]byte(name), 0)
	var offs []uint32
	for i := 0; ; {
		j := bytes.Index(strs[i:], want)
		if j < 0 {
			break
		}
		if at := i + j; at == 0 || strs[at-1] == 0 {
			offs = append(offs, uint32(at))
		}
		i += j + 1
	}
	if len(offs) == 0 {
		return "", false
	}
	r := io.NewSectionReader(tab.ReaderAt, 0, int64(tab.Size))
	var ent [24]byte // Elf64_Sym
	for off := int64(0); off+24 <= int64(tab.Size); off += 24 {
		if _, err := r.ReadAt(ent[:], off); err != nil {
			return "", false
		}
		st := binary.LittleEndian.Uint32(ent[0:])
		typ := elf.ST_TYPE(ent[4])
		value := binary.LittleEndian.Uint64(ent[8:])
		size := binary.LittleEndian.Uint64(ent[16:])
		if typ != elf.STT_OBJECT || size != 16 || !containsOff(offs, st) {
			continue
		}
		hdr, ok := im.read(value, 16)
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

func containsOff(offs []uint32, v uint32) bool {
	for _, o := range offs {
		if o == v {
			return true
		}
	}
	return false
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
