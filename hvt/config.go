package hvt

import (
	"io"
	"log/slog"
)

// Config describes one run of an image.
type Config struct {
	Image string   // path of the ELF image
	Argv  []string // the guest's argv, argv[0] included
	Env   []string // the guest's environment, KEY=VALUE
	Mem   uint64   // guest memory in bytes: a hard limit
	CPUs  int      // vCPUs the guest may run on at once (its affinity mask)

	KVMDevice string // default /dev/kvm
	Stdout    io.Writer
	Stderr    io.Writer
	Log       *slog.Logger // monitor diagnostics; nil discards them
	Trace     io.Writer    // if set, one line per system call, as strace prints
}

// Error is an error of the monitor itself, not of the guest: a bad image,
// a bad configuration, no KVM. The CLI exits with 125 for it.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
