package hvt

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// file is what a guest descriptor refers to. There are no host files
// behind any of them: the console, eventfds and epoll instances live in the
// monitor.
type file interface {
	read(t *thread, va, n uint64, nonblock bool) (uint64, error)
	write(t *thread, va, n uint64, nonblock bool) (uint64, error)
	// ready returns the epoll events the file would report now and a
	// generation that grows whenever it becomes more ready.
	ready() (events uint32, gen uint64)
}

type fd struct {
	f        file
	cloexec  bool
	nonblock bool
	accmode  int
}

// fileTable is the guest's descriptor table. Readiness changes are
// broadcast by closing the changed channel, on which epoll and blocking
// reads wait.
type fileTable struct {
	mu      sync.Mutex
	fds     map[int]*fd
	changed chan struct{}
}

// init makes the table of a new guest: fds 0, 1 and 2, with in as 0.
func (ft *fileTable) init(in file) {
	ft.fds = map[int]*fd{
		0: {f: in, accmode: unix.O_RDONLY},
		1: {f: console{out: 1}, accmode: unix.O_WRONLY},
		2: {f: console{out: 2}, accmode: unix.O_WRONLY},
	}
	ft.changed = make(chan struct{})
}

// notify wakes everything waiting for readiness.
func (ft *fileTable) notify() {
	ft.mu.Lock()
	close(ft.changed)
	ft.changed = make(chan struct{})
	ft.mu.Unlock()
}

// waitChan returns the channel the next notify closes.
func (ft *fileTable) waitChan() chan struct{} {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.changed
}

func (ft *fileTable) get(n uint64) (*fd, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	d := ft.fds[int(n)]
	if d == nil || n > 1<<20 {
		return nil, unix.EBADF
	}
	return d, nil
}

// install gives f the lowest free descriptor.
func (ft *fileTable) install(d *fd) (uint64, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for n := 0; n < 1024; n++ {
		if ft.fds[n] == nil {
			ft.fds[n] = d
			return uint64(n), nil
		}
	}
	return 0, unix.EMFILE
}

// remove closes descriptor n; it reports whether n was open.
func (ft *fileTable) remove(n uint64) bool {
	ft.mu.Lock()
	d := ft.fds[int(n)]
	delete(ft.fds, int(n))
	for _, o := range ft.fds {
		if ep, ok := o.f.(*epoll); ok {
			ep.forget(int(n), d)
		}
	}
	ft.mu.Unlock()
	if d == nil {
		return false
	}
	if pe, ok := d.f.(*pipeEnd); ok {
		pe.closeEnd()
		ft.notify()
	}
	return true
}

func sysClose(t *thread, a *args) (uint64, outcome) {
	if !t.vm.files.remove(a[0]) {
		return errno(unix.EBADF), resume
	}
	return 0, resume
}

func sysRead(t *thread, a *args) (uint64, outcome) {
	d, err := t.vm.files.get(a[0])
	if err != nil {
		return errno(err), resume
	}
	return ret(d.f.read(t, a[1], a[2], d.nonblock))
}

func sysWrite(t *thread, a *args) (uint64, outcome) {
	d, err := t.vm.files.get(a[0])
	if err != nil {
		return errno(err), resume
	}
	return ret(d.f.write(t, a[1], a[2], d.nonblock))
}

func sysFcntl(t *thread, a *args) (uint64, outcome) {
	d, err := t.vm.files.get(a[0])
	if err != nil {
		return errno(err), resume
	}
	t.vm.files.mu.Lock()
	defer t.vm.files.mu.Unlock()
	switch a[1] {
	case unix.F_GETFD:
		if d.cloexec {
			return unix.FD_CLOEXEC, resume
		}
		return 0, resume
	case unix.F_SETFD:
		d.cloexec = a[2]&unix.FD_CLOEXEC != 0
		return 0, resume
	case unix.F_GETFL:
		fl := uint64(d.accmode)
		if d.nonblock {
			fl |= unix.O_NONBLOCK
		}
		return fl, resume
	case unix.F_SETFL:
		d.nonblock = a[2]&unix.O_NONBLOCK != 0
		return 0, resume
	}
	return errno(unix.EINVAL), resume
}

// console is fds 1 and 2: stdout and stderr go to the monitor's (fd 0 is
// stdin, stdin.go).
type console struct{ out int }

func (c console) read(*thread, uint64, uint64, bool) (uint64, error) { return 0, unix.EBADF }

func (c console) write(t *thread, va, n uint64, _ bool) (uint64, error) {
	w := t.vm.cfg.Stdout
	if c.out == 2 {
		w = t.vm.cfg.Stderr
	}
	n = min(n, 1<<30)
	done := uint64(0)
	err := t.vm.as.Each(va, n, false, func(b []byte) error {
		k, err := w.Write(b)
		done += uint64(k)
		return err
	})
	if err == unix.EFAULT {
		return 0, err
	}
	// A host stdout or stderr whose reader has gone (`| head`) is the
	// guest's broken pipe, as the kernel would report it: EPIPE and a
	// SIGPIPE to the writing thread, which the Go runtime turns into its
	// default (death by SIGPIPE) or, if the guest asked for the signal or
	// ignores it, into the error. A full disk or a gone terminal is the
	// guest's too, as it would be a process's, rather than output lost
	// without a word. Other host errors are not the guest's.
	var en unix.Errno
	if !errors.As(err, &en) {
		return n, nil
	}
	switch en {
	case unix.EPIPE, unix.ENOSPC, unix.EDQUOT, unix.EFBIG, unix.EIO:
		if done > 0 {
			return done, nil // a short write; the next one fails
		}
		if en == unix.EPIPE {
			t.vm.queueThreadSignal(t, int(unix.SIGPIPE))
		}
		return 0, en
	}
	return n, nil
}

func (c console) ready() (uint32, uint64) { return unix.EPOLLOUT, 0 }
