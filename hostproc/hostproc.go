// Package hostproc runs an image as an ordinary host process: morgana's
// unix mode. There is no isolation at all; the point is the development
// loop: the very same static ELF that boots in a VM runs here under the
// host kernel, with host sockets, debuggers and profilers.
package hostproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config describes one run.
type Config struct {
	Image string
	Argv  []string // argv[0] included
	Env   []string // the whole environment
	CPUs  int      // the process may run on this many host CPUs (0: all)
	Dir   string   // the working directory; "": the caller's
	// ExtraFiles are passed on as descriptors 3, 4, ...
	ExtraFiles []*os.File
}

// Forwarded are the signals that morgana run passes on to the guest, in
// every mode, as docker run passes them to its container: the ones a
// service is told to stop, reload or reopen its logs with, and a terminal's
// resize.
var Forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Run starts the image, waits for it, and returns its exit status: its own,
// or 128+N when signal N killed it. An error means it never started.
func Run(cfg Config) (int, error) {
	cmd := &exec.Cmd{
		Path:   cfg.Image,
		Args:   cfg.Argv,
		Env:    cfg.Env,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Dir:    cfg.Dir,

		ExtraFiles: cfg.ExtraFiles,
	}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	if err := start(cmd, cfg.CPUs); err != nil {
		return 0, fmt.Errorf("start %s: %w", cfg.Image, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}

// start starts cmd restricted to the first n CPUs the monitor may use: the
// child inherits the affinity of the thread that forks it.
func start(cmd *exec.Cmd, n int) error {
	if n <= 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
	for cpu := 0; cpu < 1024 && set.Count() < n; cpu++ {
		if old.IsSet(cpu) {
			set.Set(cpu)
		}
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return err
	}
	defer unix.SchedSetaffinity(0, &old)
	return cmd.Start()
}
