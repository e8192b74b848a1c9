// Command forbidden tries, one by one, what a unikernel must not be able to
// do, and checks each outcome against what its mode should give: with
// -want refused (hvt, spt) every attempt fails with a clear error; with
// -want allowed (a host process) the host kernel lets the same attempts
// through, which shows what the monitor takes away.
package main

import (
	"errors"
	"flag"
	"os"
	"syscall"
	"unsafe"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

func main() {
	want := flag.String("want", "refused", "refused or allowed")
	flag.Parse()
	refused := *want == "refused"

	expect := func(what string, err error, refusedErr syscall.Errno) {
		switch {
		case refused:
			check.That(errors.Is(err, refusedErr), "%s refused with %v (got %v)", what, refusedErr, err)
		default:
			check.That(err == nil || !errors.Is(err, refusedErr), "%s allowed by the host (got %v)", what, err)
		}
	}

	f, err := os.Open("/etc/passwd")
	if err == nil {
		f.Close()
	}
	expect("open /etc/passwd", err, syscall.ENOENT)

	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.Close(fd)
	}
	expect("socket", err, syscall.EACCES)

	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err == nil {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
	expect("fork and exec /bin/true", err, syscall.EPERM)

	path, _ := syscall.BytePtrFromString("/nonexistent/morgana")
	_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)), 0, 0)
	expect("execve", errnoOrNil(e), syscall.EACCES)

	mem, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err == nil {
		syscall.Munmap(mem)
	}
	expect("mmap of new executable memory", err, syscall.EACCES)

	if refused {
		_, _, e = syscall.RawSyscall(syscall.SYS_PTRACE, syscall.PTRACE_TRACEME, 0, 0)
		expect("ptrace", errnoOrNil(e), syscall.EPERM)
	}

	// Both kinds of mode refuse a descriptor that was never opened.
	_, err = syscall.Write(42, []byte("x"))
	check.That(errors.Is(err, syscall.EBADF), "write to descriptor 42 fails with EBADF (got %v)", err)
	check.Done()
}

func errnoOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
