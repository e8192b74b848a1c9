package elfimage

import (
	"errors"
	"io"
)

// The kinds of invalid image. Every error returned by Parse for a file it
// rejects is an *Error whose Kind is one of these, so callers can test the
// kind with errors.Is while users read the full one-line message.
var (
	ErrNotELF      = errors.New("not an ELF file")
	ErrTruncated   = errors.New("truncated ELF file")
	ErrMalformed   = errors.New("malformed ELF file")
	ErrClass       = errors.New("not a 64-bit ELF file")
	ErrByteOrder   = errors.New("not a little-endian ELF file")
	ErrMachine     = errors.New("not an x86-64 executable")
	ErrNotExec     = errors.New("not a fixed-address executable (ET_EXEC)")
	ErrDynamic     = errors.New("dynamically linked")
	ErrCgo         = errors.New("built with cgo")
	ErrNoLoad      = errors.New("no loadable segment (PT_LOAD)")
	ErrSegmentFile = errors.New("segment's file range lies outside the file")
	ErrSegmentSize = errors.New("segment's file size exceeds its memory size")
	ErrAlign       = errors.New("segment's address and file offset differ modulo the page size")
	ErrOverlap     = errors.New("segments overlap")
	ErrAddress     = errors.New("segment outside the user address range")
	ErrTooLarge    = errors.New("image too large")
	ErrEntry       = errors.New("entry point not in an executable segment")
	ErrWX          = errors.New("segment both writable and executable")
	ErrRead        = errors.New("read error")
)

// Error describes why a file is not a usable guest image. Its message is a
// single line: "<path>: <kind>: <detail>".
type Error struct {
	Path   string // file name as given to Open or Parse
	Kind   error  // one of the Err* kinds above
	Detail string // what was found and, where possible, how to fix it
	Err    error  // underlying error, if any (an I/O or debug/elf error)
}

func (e *Error) Error() string {
	s := e.Path + ": " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes both the kind and the underlying error to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// readErr classifies a failed read: running off the end of the data means
// the file is truncated, anything else is an I/O error.
func readErr(name, what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Path: name, Kind: ErrTruncated, Detail: "reading " + what}
	}
	return &Error{Path: name, Kind: ErrRead, Detail: "reading " + what, Err: err}
}
