package hvt

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"
)

// pipeSize is a pipe's capacity, Linux's default.
const pipeSize = 64 << 10

// pipe is an in-monitor pipe (pipe2(2)): bytes written to one end can be
// read from the other, within the guest. Nothing leaves the VM.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	readers int
	writers int
	gen     uint64
}

// pipeEnd is one descriptor of a pipe.
type pipeEnd struct {
	p      *pipe
	writer bool
}

func sysPipe2(t *thread, a *args) (uint64, outcome) {
	fds, flags := a[0], a[1]
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK) != 0 {
		return errno(unix.EINVAL), resume
	}
	p := &pipe{readers: 1, writers: 1}
	nb, ce := flags&unix.O_NONBLOCK != 0, flags&unix.O_CLOEXEC != 0
	r, err := t.vm.files.install(&fd{f: &pipeEnd{p: p}, accmode: unix.O_RDONLY, nonblock: nb, cloexec: ce})
	if err != nil {
		return errno(err), resume
	}
	w, err := t.vm.files.install(&fd{f: &pipeEnd{p: p, writer: true}, accmode: unix.O_WRONLY, nonblock: nb, cloexec: ce})
	if err != nil {
		t.vm.files.remove(r)
		return errno(err), resume
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(r))
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	if err := t.vm.as.CopyOut(fds, b); err != nil {
		t.vm.files.remove(r)
		t.vm.files.remove(w)
		return errno(err), resume
	}
	return 0, resume
}

func (e *pipeEnd) read(t *thread, va, n uint64, nonblock bool) (uint64, error) {
	if e.writer {
		return 0, unix.EBADF
	}
	p := e.p
	for {
		wait := t.vm.files.waitChan()
		p.mu.Lock()
		if len(p.buf) > 0 || p.writers == 0 {
			k := min(n, uint64(len(p.buf)))
			err := t.vm.as.CopyOut(va, p.buf[:k])
			if err == nil {
				p.buf = p.buf[k:]
				p.gen++
			}
			p.mu.Unlock()
			t.vm.files.notify()
			return k, err
		}
		p.mu.Unlock()
		if nonblock {
			return 0, unix.EAGAIN
		}
		if t.block(wait, zeroTime) == interrupted {
			return 0, unix.EINTR
		}
	}
}

func (e *pipeEnd) write(t *thread, va, n uint64, nonblock bool) (uint64, error) {
	if !e.writer {
		return 0, unix.EBADF
	}
	p := e.p
	done := uint64(0)
	for done < n {
		wait := t.vm.files.waitChan()
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			t.vm.queueThreadSignal(t, int(unix.SIGPIPE))
			return done, unix.EPIPE
		}
		if space := uint64(pipeSize - len(p.buf)); space > 0 {
			k := min(space, n-done)
			chunk := make([]byte, k)
			err := t.vm.as.CopyIn(chunk, va+done)
			if err == nil {
				p.buf = append(p.buf, chunk...)
				p.gen++
				done += k
			}
			p.mu.Unlock()
			t.vm.files.notify()
			if err != nil {
				return done, err
			}
			continue
		}
		p.mu.Unlock()
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if t.block(wait, zeroTime) == interrupted {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EINTR
		}
	}
	return done, nil
}

func (e *pipeEnd) ready() (uint32, uint64) {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev uint32
	if e.writer {
		if p.readers == 0 {
			ev |= unix.EPOLLERR
		} else if len(p.buf) < pipeSize {
			ev |= unix.EPOLLOUT
		}
	} else {
		if len(p.buf) > 0 {
			ev |= unix.EPOLLIN
		}
		if p.writers == 0 {
			ev |= unix.EPOLLHUP
		}
	}
	return ev, p.gen
}

// closeEnd drops this end's reference to the pipe.
func (e *pipeEnd) closeEnd() {
	e.p.mu.Lock()
	if e.writer {
		e.p.writers--
	} else {
		e.p.readers--
	}
	e.p.gen++
	e.p.mu.Unlock()
}
