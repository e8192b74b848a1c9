package elfimage

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	rdebug "runtime/debug"
)

// cgoSymbols are functions that only runtime/cgo's C code defines. The
// runtime's _cgo_init is a data pointer even in pure-Go binaries, so only a
// function of that name counts.
var cgoSymbols = []string{"x_cgo_init", "_cgo_init"}

// readBuildInfo returns the Go build information embedded in the binary,
// or nil for a non-Go binary. debug/buildinfo bounds its own reads but
// always allocates a 1 MiB search buffer, so it is only asked about files
// that have the .go.buildinfo section the Go linker writes.
func readBuildInfo(ef *elf.File, r io.ReaderAt) *rdebug.BuildInfo {
	if ef.Section(".go.buildinfo") == nil {
		return nil
	}
	bi, err := buildinfo.Read(r)
	if err != nil {
		return nil
	}
	return bi
}

// setting returns the value of a build setting, or "".
func setting(bi *rdebug.BuildInfo, key string) string {
	if bi == nil {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// checkOrigin rejects binaries that were built in a way the monitor cannot
// run. It reports the root cause first: a cgo build or -buildmode=pie is
// also dynamically linked, but the fix is to change that build setting.
func checkOrigin(name string, r io.ReaderAt, size int64, h *header, progs []prog, bi *rdebug.BuildInfo, syms []symbol) error {
	if setting(bi, "CGO_ENABLED") == "1" {
		return &Error{Path: name, Kind: ErrCgo, Detail: "its build settings say CGO_ENABLED=1; morgana runs pure-Go binaries only: rebuild with CGO_ENABLED=0 go build (or morgana build)"}
	}
	for _, s := range cgoSymbols {
		if hasSymbol(syms, s) {
			return &Error{Path: name, Kind: ErrCgo, Detail: fmt.Sprintf("it contains the cgo runtime (%s); morgana runs pure-Go binaries only: rebuild with CGO_ENABLED=0 go build (or morgana build)", s)}
		}
	}
	if mode := setting(bi, "-buildmode"); mode != "" && mode != "exe" {
		return &Error{Path: name, Kind: ErrNotExec, Detail: fmt.Sprintf("built with -buildmode=%s; rebuild with CGO_ENABLED=0 go build and no -buildmode flag", mode)}
	}
	for _, p := range progs {
		switch p.typ {
		case elf.PT_INTERP:
			return &Error{Path: name, Kind: ErrDynamic, Detail: fmt.Sprintf("it needs the program interpreter %s; morgana runs statically linked Go binaries only: %s", interpreter(r, size, p), buildHint)}
		case elf.PT_DYNAMIC:
			return &Error{Path: name, Kind: ErrDynamic, Detail: "it has a dynamic section (PT_DYNAMIC); morgana runs statically linked Go binaries only: " + buildHint}
		}
	}
	switch h.typ {
	case elf.ET_EXEC:
		return nil
	case elf.ET_DYN:
		return &Error{Path: name, Kind: ErrNotExec, Detail: "it is a position-independent executable (ET_DYN: PIE or static-pie); rebuild with CGO_ENABLED=0 go build, without -buildmode=pie"}
	case elf.ET_REL:
		return &Error{Path: name, Kind: ErrNotExec, Detail: "it is a relocatable object file (ET_REL), not a linked program; " + buildHint}
	case elf.ET_CORE:
		return &Error{Path: name, Kind: ErrNotExec, Detail: "it is a core dump (ET_CORE)"}
	}
	return &Error{Path: name, Kind: ErrNotExec, Detail: fmt.Sprintf("its type is %v", h.typ)}
}

// interpreter returns the quoted PT_INTERP path, read with a small bound.
func interpreter(r io.ReaderAt, size int64, p prog) string {
	n := min(p.filesz, 256)
	if p.off > uint64(size) || n > uint64(size)-p.off {
		return "(unreadable)"
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(p.off)); err != nil {
		return "(unreadable)"
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return fmt.Sprintf("%q", b)
}
