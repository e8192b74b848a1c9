package elfimage

import (
	"debug/elf"
	"io"
	"strings"
)

// openSections hands the file to debug/elf for its section headers, which
// carry the symbol table, Go's build information and pc-line table.
//
// debug/elf bounds its reads by the file size, with one exception: a
// compressed section is inflated to the size its header claims, and it
// inflates the section-name table while parsing. A tiny hostile file could
// claim gigabytes, so a compressed name table is refused here, and
// plainSection guards every other section before its data is read.
func openSections(name string, r io.ReaderAt, size int64, h *header) (*elf.File, error) {
	if compressed, err := namesCompressed(r, size, h); err != nil {
		return nil, readErr(name, "section headers", err)
	} else if compressed {
		return nil, &Error{Path: name, Kind: ErrMalformed, Detail: "compressed section name table"}
	}
	ef, err := elf.NewFile(r)
	if err != nil {
		return nil, &Error{Path: name, Kind: ErrMalformed, Detail: "section headers", Err: err}
	}
	return ef, nil
}

// namesCompressed reports whether the section-name table (e_shstrndx) is
// marked SHF_COMPRESSED. Headers that cannot be read are left for
// debug/elf to report.
func namesCompressed(r io.ReaderAt, size int64, h *header) (bool, error) {
	if h.shoff == 0 || h.shentsize != shdrSize {
		return false, nil
	}
	readShdr := func(i uint64) ([]byte, bool, error) {
		off := h.shoff + i*shdrSize
		if i > 1<<16 || off < h.shoff || off > uint64(size) || uint64(size)-off < shdrSize {
			return nil, false, nil
		}
		b := make([]byte, shdrSize)
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			return nil, false, err
		}
		return b, true, nil
	}
	idx := uint64(h.shstrndx)
	if h.shstrndx == uint16(elf.SHN_XINDEX) { // real index is section 0's sh_link
		b, ok, err := readShdr(0)
		if !ok {
			return false, err
		}
		idx = uint64(le.Uint32(b[40:]))
	}
	if idx == 0 {
		return false, nil
	}
	b, ok, err := readShdr(idx)
	if !ok {
		return false, err
	}
	return elf.SectionFlag(le.Uint64(b[8:]))&elf.SHF_COMPRESSED != 0, nil
}

// plainSection reports whether s can be read without decompression and
// lies inside the file, so reading it allocates at most the file's size.
func plainSection(s *elf.Section, size int64) bool {
	return s != nil && s.Type != elf.SHT_NOBITS &&
		s.Flags&elf.SHF_COMPRESSED == 0 && !strings.HasPrefix(s.Name, ".zdebug") &&
		s.Size == s.FileSize && s.Offset <= uint64(size) && s.Size <= uint64(size)-s.Offset
}
