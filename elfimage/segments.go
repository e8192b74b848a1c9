package elfimage

import (
	"debug/elf"
	"fmt"
	"sort"
)

// Limits of a guest image. The monitor lays guest memory out itself, so it
// only accepts segments in the range a static linux/amd64 executable uses,
// below the area it keeps for the stack and its own mappings.
const (
	PageSize = 4096
	MinAddr  = 0x10000        // lowest mappable address (Linux's default mmap_min_addr)
	MaxAddr  = 0x7f0000000000 // end of the range open to image segments
	MaxSize  = 4 << 30        // largest segment, and largest sum of segments
)

// load is a validated PT_LOAD header with its page-rounded extent.
type load struct {
	prog
	index      int    // position in the program header table, for messages
	start, end uint64 // page-rounded [start, end)
}

func (l load) String() string {
	return fmt.Sprintf("segment %d (vaddr %#x, memsz %#x, offset %#x, filesz %#x)", l.index, l.vaddr, l.memsz, l.off, l.filesz)
}

// checkLoads validates every PT_LOAD header, each against the file and the
// address limits and then against the others, and returns them sorted by
// address. No segment data has been read yet, so a header claiming
// terabytes fails here, before anything is allocated.
func checkLoads(name string, size int64, progs []prog) ([]load, error) {
	fail := func(kind error, format string, args ...any) error {
		return &Error{Path: name, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
	var loads []load
	for i, p := range progs {
		if p.typ != elf.PT_LOAD {
			continue
		}
		l := load{prog: p, index: i}
		switch {
		case p.filesz > p.memsz:
			return nil, fail(ErrSegmentSize, "%v", l)
		case p.memsz == 0:
			continue // maps nothing
		case p.memsz > MaxSize:
			return nil, fail(ErrTooLarge, "%v is larger than %d GiB", l, MaxSize>>30)
		case p.vaddr+p.memsz < p.vaddr || p.vaddr+p.memsz > ^uint64(0)-PageSize:
			return nil, fail(ErrAddress, "%v wraps around the address space", l)
		}
		l.start = p.vaddr &^ (PageSize - 1)
		l.end = (p.vaddr + p.memsz + PageSize - 1) &^ (PageSize - 1)
		switch {
		case l.start < MinAddr || l.end > MaxAddr:
			return nil, fail(ErrAddress, "%v is outside [%#x, %#x)", l, MinAddr, MaxAddr)
		case p.off > uint64(size) || p.filesz > uint64(size)-p.off:
			return nil, fail(ErrSegmentFile, "%v ends beyond the %d-byte file", l, size)
		case p.align >= PageSize && p.vaddr%PageSize != p.off%PageSize:
			return nil, fail(ErrAlign, "%v with alignment %#x", l, p.align)
		case p.flags&elf.PF_W != 0 && p.flags&elf.PF_X != 0:
			return nil, fail(ErrWX, "%v; the monitor never maps memory both writable and executable", l)
		}
		loads = append(loads, l)
	}
	if len(loads) == 0 {
		return nil, fail(ErrNoLoad, "nothing to load into memory")
	}
	sort.SliceStable(loads, func(i, j int) bool { return loads[i].vaddr < loads[j].vaddr })
	var total uint64
	for i, l := range loads {
		if i > 0 && loads[i-1].end > l.start {
			return nil, fail(ErrOverlap, "%v and %v share memory (after rounding to %d-byte pages)", loads[i-1], l, PageSize)
		}
		total += l.end - l.start
	}
	if total > MaxSize {
		return nil, fail(ErrTooLarge, "segments total %d MiB, more than %d GiB", total>>20, MaxSize>>30)
	}
	return loads, nil
}

// checkEntry requires the entry point to lie in an executable segment.
func checkEntry(name string, entry uint64, loads []load) error {
	for _, l := range loads {
		if l.flags&elf.PF_X != 0 && entry >= l.vaddr && entry-l.vaddr < l.memsz {
			return nil
		}
	}
	return &Error{Path: name, Kind: ErrEntry, Detail: fmt.Sprintf("entry point %#x", entry)}
}

// phdrAddr returns where the program header table appears in guest memory,
// for AT_PHDR: like Linux, inside the PT_LOAD whose file range holds it, or
// else at PT_PHDR's address if that is loaded; 0 if it is not in memory.
func phdrAddr(h *header, progs []prog, loads []load) uint64 {
	tableSize := uint64(h.phnum) * phdrSize
	for _, l := range loads {
		if h.phoff >= l.off && h.phoff-l.off <= l.filesz && tableSize <= l.filesz-(h.phoff-l.off) {
			return l.vaddr + (h.phoff - l.off)
		}
	}
	for _, p := range progs {
		if p.typ != elf.PT_PHDR {
			continue
		}
		for _, l := range loads {
			if p.vaddr >= l.vaddr && p.vaddr-l.vaddr <= l.memsz && tableSize <= l.memsz-(p.vaddr-l.vaddr) {
				return p.vaddr
			}
		}
	}
	return 0
}

// protOf converts ELF segment flags.
func protOf(f elf.ProgFlag) Prot {
	var p Prot
	if f&elf.PF_R != 0 {
		p |= Read
	}
	if f&elf.PF_W != 0 {
		p |= Write
	}
	if f&elf.PF_X != 0 {
		p |= Exec
	}
	return p
}
