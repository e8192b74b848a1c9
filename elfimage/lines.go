package elfimage

import (
	"debug/elf"
	"debug/gosym"
	"sync"
)

// Go pc-line table (pclntab) header magics of Go 1.18 and Go 1.20 onwards.
const (
	pclnMagic118 = 0xfffffff0
	pclnMagic120 = 0xfffffff1
)

// lineTable is Go's pc-line table, decoded on first use: only a crash
// report needs it, and decoding a large binary's table takes milliseconds.
type lineTable struct {
	data []byte // the .gopclntab bytes, a slice of a segment's Data
	text uint64 // start of the text the table describes
	once sync.Once
	tab  *gosym.Table
}

// newLineTable locates .gopclntab inside the loaded segments (no second
// read of the file) and checks its header, or returns nil.
func newLineTable(ef *elf.File, segs []Segment, syms []symbol) *lineTable {
	sec := ef.Section(".gopclntab")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil
	}
	var data []byte
	for _, s := range segs {
		if sec.Addr >= s.Vaddr && sec.Addr-s.Vaddr <= uint64(len(s.Data)) && sec.Size <= uint64(len(s.Data))-(sec.Addr-s.Vaddr) {
			off := sec.Addr - s.Vaddr
			data = s.Data[off : off+sec.Size : off+sec.Size]
			break
		}
	}
	if !pclnHeaderOK(data) {
		return nil
	}
	text := le.Uint64(data[8+2*8:]) // pcHeader.textStart
	if t := ef.Section(".text"); t != nil {
		text = t.Addr
	}
	for _, s := range syms {
		if s.name == "runtime.text" {
			text = s.addr
		}
	}
	return &lineTable{data: data, text: text}
}

// pclnHeaderOK checks the pcHeader of a Go 1.18+ amd64 table. debug/gosym
// trusts the function count it finds there and allocates a slice of that
// length, so the count must fit in the table before gosym sees it.
func pclnHeaderOK(d []byte) bool {
	const words = 8 // nfunc, nfiles, textStart, then five table offsets
	if len(d) < 8+words*8 {
		return false
	}
	magic := le.Uint32(d)
	if (magic != pclnMagic118 && magic != pclnMagic120) || d[4] != 0 || d[5] != 0 || d[6] != 1 || d[7] != 8 {
		return false
	}
	word := func(i int) uint64 { return le.Uint64(d[8+i*8:]) }
	n := uint64(len(d))
	for i := 3; i < words; i++ {
		if word(i) > n {
			return false
		}
	}
	nfunc, nfiles := word(0), word(1)
	functab := word(7)
	return nfunc <= maxFuncs && nfiles < n && (2*nfunc+1)*4 <= n-functab
}

// maxFuncs bounds the functions debug/gosym is asked to decode (it keeps
// about 200 bytes for each); the largest Go programs have a few hundred
// thousand.
const maxFuncs = 1 << 20

// funcsOK checks what debug/gosym decodes eagerly for every function, so
// that a damaged table costs time and memory in proportion to its size:
// each _func record must lie in the table, and each name must start a
// string in the name table (at its start or just after a NUL). Names then
// never overlap, and copying all of them copies at most the table.
func funcsOK(d []byte) bool {
	word := func(i int) uint64 { return le.Uint64(d[8+i*8:]) }
	nfunc, names, funcs := word(0), d[word(3):], d[word(7):]
	const funcSize = 11 * 4 // the fixed part of a Go 1.18+ _func
	for i := uint64(0); i < nfunc; i++ {
		off := uint64(le.Uint32(funcs[(2*i+1)*4:]))
		if off > uint64(len(funcs)) || uint64(len(funcs))-off < funcSize {
			return false
		}
		name := uint64(le.Uint32(funcs[off+4:]))
		if name >= uint64(len(names)) || name > 0 && names[name-1] != 0 {
			return false
		}
	}
	return true
}

// table decodes the line table once; it is nil if decoding failed.
func (lt *lineTable) table() *gosym.Table {
	if lt == nil {
		return nil
	}
	lt.once.Do(func() {
		defer func() {
			// debug/gosym is best effort on damaged tables; a crash
			// report must never crash the monitor itself.
			if recover() != nil {
				lt.tab = nil
			}
		}()
		if !funcsOK(lt.data) {
			return
		}
		tab, err := gosym.NewTable(nil, gosym.NewLineTable(lt.data, lt.text))
		if err == nil {
			lt.tab = tab
		}
	})
	return lt.tab
}

// lookup returns the Go function containing pc, or nil.
func (lt *lineTable) lookup(pc uint64) (f *gosym.Func) {
	tab := lt.table()
	if tab == nil {
		return nil
	}
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	return tab.PCToFunc(pc)
}

// Line returns the source position of pc from Go's pc-line table, when the
// image has one. It is best effort: ok is false for pcs outside Go code and
// for images without a usable table.
func (im *Image) Line(pc uint64) (file string, line int, ok bool) {
	tab := im.lines.table()
	if tab == nil {
		return "", 0, false
	}
	defer func() {
		if recover() != nil {
			file, line, ok = "", 0, false
		}
	}()
	file, line, fn := tab.PCToLine(pc)
	if fn == nil || line <= 0 {
		return "", 0, false
	}
	return file, line, true
}
