package elfimage

import (
	"debug/elf"
	"sort"
)

// symbol is one function from the ELF symbol table.
type symbol struct {
	addr, size uint64
	name       string
}

// loadSymbols returns the function symbols of the ELF .symtab sorted by
// address, or nil when there is no usable table: symbols only improve crash
// reports, so a stripped or damaged table is not an error.
func loadSymbols(ef *elf.File, size int64) []symbol {
	tab := ef.SectionByType(elf.SHT_SYMTAB)
	if !plainSection(tab, size) || int(tab.Link) >= len(ef.Sections) || !plainSection(ef.Sections[tab.Link], size) {
		return nil
	}
	all, err := ef.Symbols()
	if err != nil {
		return nil
	}
	var syms []symbol
	for _, s := range all {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 || s.Section == elf.SHN_UNDEF {
			continue
		}
		syms = append(syms, symbol{addr: s.Value, size: s.Size, name: s.Name})
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
	return syms
}

// hasSymbol reports whether a function symbol is named name.
func hasSymbol(syms []symbol, name string) bool {
	for _, s := range syms {
		if s.name == name {
			return true
		}
	}
	return false
}

// Symbolize returns the function containing pc and pc's offset in it, for
// crash reports. It searches the ELF function symbols and, for a stripped
// binary, falls back to the function names in Go's pc-line table.
func (im *Image) Symbolize(pc uint64) (fn string, off uint64, ok bool) {
	im.symsOnce.Do(func() {
		if im.loadSyms != nil {
			im.syms = im.loadSyms()
		}
	})
	syms := im.syms
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > pc }) - 1
	if i >= 0 {
		s := syms[i]
		end := s.addr + s.size
		if s.size == 0 { // unsized: assume it runs to the next symbol
			end = ^uint64(0)
			if i+1 < len(syms) {
				end = syms[i+1].addr
			}
		}
		if pc < end {
			return s.name, pc - s.addr, true
		}
	}
	if len(syms) == 0 {
		if f := im.lines.lookup(pc); f != nil {
			return f.Name, pc - f.Entry, true
		}
	}
	return "", 0, false
}
