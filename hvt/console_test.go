package hvt

import (
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// brokenAfter is a host stdout whose reader goes away after limit bytes, as
// `| head -c limit` does; err is what os.File returns then.
type brokenAfter struct {
	limit int
	err   error
}

func (w *brokenAfter) Write(b []byte) (int, error) {
	if w.limit >= len(b) {
		w.limit -= len(b)
		return len(b), nil
	}
	k := max(w.limit, 0)
	w.limit = 0
	return k, w.err
}

// TestConsoleBrokenPipe: a write to a host stdout or stderr whose reader is
// gone fails as the kernel fails it, with EPIPE and a SIGPIPE for the
// writing thread, so that the guest's runtime dies of SIGPIPE or, if it
// asked for the signal, sees the error; a write that got some bytes out
// reports those, without a signal. A full disk fails the same, without
// the signal.
func TestConsoleBrokenPipe(t *testing.T) {
	epipe := &os.PathError{Op: "write", Path: "/dev/stdout", Err: unix.EPIPE}
	const page = 4096
	for _, c := range []struct {
		name    string
		fd      uint64
		out     io.Writer
		n       uint64
		want    int64
		sigpipe bool
	}{
		{"stdout fine", 1, io.Discard, 100, 100, false},
		{"stderr fine", 2, io.Discard, 100, 100, false},
		{"stdout reader gone", 1, &brokenAfter{0, epipe}, 100, -int64(unix.EPIPE), true},
		{"stderr reader gone", 2, &brokenAfter{0, epipe}, 100, -int64(unix.EPIPE), true},
		{"bare errno", 1, &brokenAfter{0, unix.EPIPE}, 100, -int64(unix.EPIPE), true},
		// Two pages (two host writes): the first goes out, the second finds the pipe broken.
		{"partial", 1, &brokenAfter{page, epipe}, 2 * page, page, false},
		// A full disk (`> file` on a full file system, `> /dev/full`) or a gone terminal is the
		// guest's error, as a process's, without a signal; after some bytes, a short write.
		{"stdout disk full", 1, &brokenAfter{0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: unix.ENOSPC}}, 100, -int64(unix.ENOSPC), false},
		{"stderr over quota", 2, &brokenAfter{0, unix.EDQUOT}, 100, -int64(unix.EDQUOT), false},
		{"stdout too big", 1, &brokenAfter{0, unix.EFBIG}, 100, -int64(unix.EFBIG), false},
		{"terminal gone", 1, &brokenAfter{0, unix.EIO}, 100, -int64(unix.EIO), false},
		{"disk full partial", 1, &brokenAfter{page, unix.ENOSPC}, 2 * page, page, false},
		// Other host errors are the monitor's, not the guest's: the bytes count as written.
		{"other host error", 1, &brokenAfter{0, errors.New("disk on fire")}, 100, 100, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			vm := newFakeVM(t)
			if c.fd == 1 {
				vm.cfg.Stdout = c.out
			} else {
				vm.cfg.Stderr = c.out
			}
			th := vm.fakeThread(1)
			buf := scratch(t, vm, 4*page)
			if got := call(th, sysWrite, c.fd, buf, c.n); got != c.want {
				t.Errorf("write(%d, %d bytes) = %d, want %d", c.fd, c.n, got, c.want)
			}
			if got := th.pending&sigbit(int(unix.SIGPIPE)) != 0; got != c.sigpipe {
				t.Errorf("SIGPIPE pending = %v, want %v", got, c.sigpipe)
			}
		})
	}
}
