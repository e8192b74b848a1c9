package spt

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/hostproc"
)

// ExecCommand is the hidden morgana subcommand that runs in the child.
const ExecCommand = "__spt-exec"

// FirstDeviceFD is the guest's first device descriptor: they follow
// ImageFD, which is closed when the image starts.
const FirstDeviceFD = ImageFD + 1

// Run starts image under the filter and waits for it, as hostproc.Run does
// for an unconfined process. self is the morgana binary; mem bounds the
// image's data (RLIMIT_DATA: its writable private memory, plus SparseData),
// so that, as in a VM, a guest that outgrows it sees mmap fail with ENOMEM.
func Run(self string, cfg hostproc.Config, mem uint64) (int, error) {
	img, err := os.Open(cfg.Image)
	if err != nil {
		return 0, fmt.Errorf("spt: %w", err)
	}
	defer img.Close()
	child := cfg
	child.Image = self
	child.Argv = append([]string{self, ExecCommand, strconv.FormatUint(mem, 10), "--"}, cfg.Argv...)
	child.ExtraFiles = append([]*os.File{img}, cfg.ExtraFiles...) // ImageFD, then the devices
	child.Dir = "/"                                               // as in a VM, where getcwd answers the root: the host's directory is not the guest's business
	return hostproc.Run(child)
}

// SparseData is what RLIMIT_DATA allows beyond --mem: the Go runtime maps
// writable tables it barely touches, its heap index alone 32 MiB on
// linux/amd64. RLIMIT_DATA counts them whole; a VM commits only the pages
// touched, so without it a --mem that boots in hvt (under some 48M) made
// the runtime die at start-up in spt.
const SparseData = 64 << 20

// Exec is the child's side: limit memory, lock the process down and become
// the image. It returns only on failure.
func Exec(mem uint64, argv, env []string) error {
	limit := mem + SparseData
	if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		return fmt.Errorf("spt: limit memory to %d bytes: %w", limit, err)
	}
	devs, err := abi.ParseDevices(os.Getenv(abi.DevicesEnv))
	if err != nil {
		return fmt.Errorf("spt: %s: %w", abi.DevicesEnv, err)
	}
	rules, err := Rules(os.Getpid(), devs)
	if err != nil {
		return err
	}
	raw, err := Program(rules)
	if err != nil {
		return err
	}
	unix.CloseOnExec(ImageFD)
	if err := Lock(raw); err != nil {
		return err
	}
	argvp, err := cStrings(argv)
	if err != nil {
		return err
	}
	envp, err := cStrings(env)
	if err != nil {
		return err
	}
	empty, _ := unix.BytePtrFromString("")
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, ImageFD, uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return fmt.Errorf("spt: exec image: %w", e)
}

// cStrings is a NULL-terminated array of C strings.
func cStrings(ss []string) ([]*byte, error) {
	out := make([]*byte, 0, len(ss)+1)
	for _, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return append(out, nil), nil
}
