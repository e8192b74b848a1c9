package elfimage

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	rdebug "runtime/debug"
	"sync"

	"golang.org/x/sys/unix"
)

// Prot is the access a segment's pages get in the guest. The bits have the
// values of mmap's PROT_READ, PROT_WRITE and PROT_EXEC, so the monitor can
// pass them on unchanged.
type Prot uint8

const (
	Read  Prot = 0x1 // PROT_READ
	Write Prot = 0x2 // PROT_WRITE
	Exec  Prot = 0x4 // PROT_EXEC
)

// String formats p like /proc/self/maps: "r-x".
func (p Prot) String() string {
	b := []byte("---")
	if p&Read != 0 {
		b[0] = 'r'
	}
	if p&Write != 0 {
		b[1] = 'w'
	}
	if p&Exec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Segment is one PT_LOAD segment: Memsz bytes at Vaddr, the first
// len(Data) of them from the file and the rest zero (bss).
type Segment struct {
	Vaddr, Memsz uint64
	Data         []byte // file bytes, len(Data) = p_filesz <= Memsz; owned by the Image
	Prot         Prot
}

// Image is a validated guest executable: what to load where, where to
// start, and the symbols that make a crash report readable.
type Image struct {
	Path     string
	Entry    uint64
	Segments []Segment // PT_LOAD only, sorted by Vaddr, not overlapping even after page rounding

	// For the AT_PHDR, AT_PHENT and AT_PHNUM auxv entries. The Go runtime
	// reads them to find its own ELF notes; Phdr is the guest address of
	// the program headers, 0 if they are not in a loaded segment.
	Phdr, Phent, Phnum uint64

	GoVersion string // e.g. "go1.26.3", from debug/buildinfo; "" if unknown

	syms     []symbol // ELF function symbols, sorted by address
	symsOnce sync.Once
	loadSyms func() []symbol // reads syms on first use, when set
	lines    *lineTable      // Go pc-line table, nil if absent
	ef       *elf.File       // section headers, nil if damaged
	size     int64           // file size
	file     mapped          // the whole file, when it is mapped
}

// Open reads and validates the guest image at path.
func Open(path string) (*Image, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer; it is refused below, as not a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("guest image: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("guest image: %w", err)
	}
	if !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.IsDir() {
			what = "a directory"
		}
		return nil, &Error{Path: path, Kind: ErrNotELF, Detail: what}
	}
	if fi.Size() > 0 && fi.Size() <= MaxSize {
		// Map the file rather than read it: the segments are then copied
		// once, from the page cache into guest memory, when the monitor
		// loads them. The mapping lives as long as the Image.
		if b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return Parse(path, mapped(b), fi.Size())
		}
	}
	return Parse(path, f, fi.Size())
}

// mapped is a file mapped into memory; Parse takes segment bytes from it
// without copying.
type mapped []byte

func (m mapped) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Parse reads and validates a guest image of size bytes from r; name is
// used in messages. Every rejection is an *Error of one of the Err* kinds.
// Only the loadable segments are read into memory, once.
func Parse(name string, r io.ReaderAt, size int64) (*Image, error) {
	if size < 0 {
		return nil, &Error{Path: name, Kind: ErrRead, Detail: fmt.Sprintf("negative size %d", size)}
	}
	h, err := readHeader(name, r, size)
	if err != nil {
		return nil, err
	}
	progs, err := readProgs(name, r, size, h)
	if err != nil {
		return nil, err
	}
	// Sections are only needed to explain how a binary was built; if they
	// are damaged, the checks that need only program headers come first.
	ef, sectErr := openSections(name, r, size, h)
	var syms []symbol
	var bi *rdebug.BuildInfo
	var lazy func() []symbol
	if ef != nil {
		bi = readBuildInfo(ef, r)
		_, inMemory := r.(mapped)
		if inMemory && setting(bi, "CGO_ENABLED") == "0" {
			// No cgo to look for, and the file stays mapped: the
			// symbols wait for a crash report that may never come.
			lazy = func() []symbol { return loadSymbols(ef, size) }
		} else {
			syms = loadSymbols(ef, size)
		}
	}
	if err := checkOrigin(name, r, size, h, progs, bi, syms); err != nil {
		return nil, err
	}
	loads, err := checkLoads(name, size, progs)
	if err != nil {
		return nil, err
	}
	if sectErr != nil {
		return nil, sectErr
	}
	if err := checkEntry(name, h.entry, loads); err != nil {
		return nil, err
	}
	im := &Image{
		Path:     name,
		Entry:    h.entry,
		Phdr:     phdrAddr(h, progs, loads),
		Phent:    uint64(h.phentsize),
		Phnum:    uint64(h.phnum),
		syms:     syms,
		loadSyms: lazy,
	}
	im.file, _ = r.(mapped)
	if bi != nil {
		im.GoVersion = bi.GoVersion
	}
	for _, l := range loads {
		var data []byte
		if m, ok := r.(mapped); ok {
			data = m[l.off : l.off+l.filesz : l.off+l.filesz] // inside the file: checked
		} else {
			data = make([]byte, l.filesz) // bounded: inside the file, at most MaxSize
			if _, err := r.ReadAt(data, int64(l.off)); err != nil {
				return nil, readErr(name, l.String(), err)
			}
		}
		im.Segments = append(im.Segments, Segment{Vaddr: l.vaddr, Memsz: l.memsz, Data: data, Prot: protOf(l.flags)})
	}
	im.lines = newLineTable(ef, im.Segments, syms)
	im.ef, im.size = ef, size
	return im, nil
}

// FileSize is the guest memory the segments' file bytes occupy, each
// rounded out to whole pages: what loading the image takes at once, as
// the zero tails (BSS) get memory only when touched.
func (im *Image) FileSize() uint64 {
	var n uint64
	for _, s := range im.Segments {
		n += pageSpan(s.Vaddr, uint64(len(s.Data)))
	}
	return n
}

// MemSize is the guest memory the segments occupy, each rounded out to
// whole pages.
func (im *Image) MemSize() uint64 {
	var n uint64
	for _, s := range im.Segments {
		n += pageSpan(s.Vaddr, s.Memsz)
	}
	return n
}

// pageSpan is the size of the whole pages that [addr, addr+n) touches.
func pageSpan(addr, n uint64) uint64 {
	return (addr+n+PageSize-1)&^(PageSize-1) - addr&^(PageSize-1)
}
