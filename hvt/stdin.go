package hvt

import (
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// stdinMax bounds what the monitor reads ahead of the guest from its
// standard input, as a pipe's capacity bounds a writer.
const stdinMax = 64 << 10

// stdin is fd 0: the monitor's standard input (Config.Stdin), as `docker
// run -i` gives a container its own. The monitor reads it only once the
// guest reads fd 0 or polls it, so that a guest that never does leaves the
// host's input alone, and at most stdinMax bytes ahead of the guest. A
// host error ends the input as end of file does.
type stdin struct {
	r      io.Reader // nil: end of file at once
	notify func()    // readiness changed
	done   <-chan struct{}

	start sync.Once
	mu    sync.Mutex
	buf   []byte
	eof   bool
	gen   uint64
	room  chan struct{} // the guest took bytes
}

func newStdin(r io.Reader, notify func(), done <-chan struct{}) *stdin {
	return &stdin{r: r, notify: notify, done: done, eof: r == nil, room: make(chan struct{}, 1)}
}

// run starts the reader, once.
func (s *stdin) run() {
	s.start.Do(func() {
		if s.r != nil {
			go s.readHost()
		}
	})
}

// readHost moves the host's input into buf until it ends or the VM does.
// A read the host never answers leaves this goroutine blocked in it; the
// monitor's exit ends it.
func (s *stdin) readHost() {
	chunk := make([]byte, 16<<10)
	for {
		s.mu.Lock()
		for len(s.buf) >= stdinMax {
			s.mu.Unlock()
			select {
			case <-s.room:
			case <-s.done:
				return
			}
			s.mu.Lock()
		}
		s.mu.Unlock()
		n, err := s.r.Read(chunk)
		if n == 0 && err == nil {
			continue
		}
		s.mu.Lock()
		s.buf = append(s.buf, chunk[:n]...)
		s.eof = err != nil
		s.gen++
		s.mu.Unlock()
		s.notify()
		if err != nil {
			return
		}
	}
}

func (s *stdin) read(t *thread, va, n uint64, nonblock bool) (uint64, error) {
	s.run()
	for {
		wait := t.vm.files.waitChan()
		s.mu.Lock()
		if len(s.buf) > 0 {
			k := min(n, uint64(len(s.buf)))
			// Copied out under the lock: bytes the guest could not take
			// (EFAULT) stay for its next read.
			if err := t.vm.as.CopyOut(va, s.buf[:k]); err != nil {
				s.mu.Unlock()
				return 0, err
			}
			s.buf = s.buf[k:]
			if len(s.buf) == 0 {
				s.buf = nil // let a large one go
			}
			s.mu.Unlock()
			select {
			case s.room <- struct{}{}:
			default:
			}
			return k, nil
		}
		eof := s.eof
		s.mu.Unlock()
		switch {
		case eof:
			return 0, nil
		case nonblock:
			return 0, unix.EAGAIN
		}
		if t.block(wait, zeroTime) == interrupted {
			return 0, unix.EINTR
		}
	}
}

func (s *stdin) write(*thread, uint64, uint64, bool) (uint64, error) { return 0, unix.EBADF }

func (s *stdin) ready() (uint32, uint64) {
	s.run()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 || s.eof {
		return unix.EPOLLIN, s.gen
	}
	return 0, s.gen
}
