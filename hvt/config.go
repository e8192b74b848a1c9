package hvt

import (
	"os"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/elfimage"

	"io"
	"log/slog"
)

// Config describes one run of an image.
type Config struct {
	Image string // path of the ELF image
	// Loaded, if set, is Image already opened and checked by the caller,
	// so that a boot reads the file once.
	Loaded *elfimage.Image
	Argv   []string // the guest's argv, argv[0] included
	Env    []string // the guest's environment, KEY=VALUE
	Mem    uint64   // guest memory in bytes: a hard limit
	CPUs   int      // vCPUs the guest may run on at once (its affinity mask)

	KVMDevice string // default /dev/kvm
	// Stdin is what the guest reads from fd 0, read only once the guest
	// reads or polls it; nil: end of file at once.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger // monitor diagnostics; nil discards them
	Trace  io.Writer    // if set, one line per system call, as strace prints

	// Devices are the guest's devices, at the descriptors their Info
	// names. The caller keeps the files open until the VM is closed.
	Devices []Device
}

// Device is a device the monitor serves to the guest.
type Device struct {
	File *os.File // the host side: a TAP, a socket pair end, a disk image
	Info abi.Device
}

// Error is an error of the monitor itself, not of the guest: a bad image,
// a bad configuration, no KVM. The CLI exits with 125 for it.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
