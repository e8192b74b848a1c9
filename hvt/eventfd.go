package hvt

import (
	"encoding/binary"
	"math"
	"sync"

	"golang.org/x/sys/unix"
)

// eventfd is a counter that can be waited on (eventfd(2)); the Go
// runtime uses one to break its netpoller out of epoll_pwait.
type eventfd struct {
	mu        sync.Mutex
	count     uint64
	gen       uint64
	semaphore bool
}

func sysEventfd2(t *thread, a *args) (uint64, outcome) {
	flags := a[1]
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return errno(unix.EINVAL), resume
	}
	e := &eventfd{count: a[0] & math.MaxUint32, semaphore: flags&unix.EFD_SEMAPHORE != 0}
	return ret(t.vm.files.install(&fd{f: e, accmode: unix.O_RDWR,
		cloexec: flags&unix.EFD_CLOEXEC != 0, nonblock: flags&unix.EFD_NONBLOCK != 0}))
}

func (e *eventfd) read(t *thread, va, n uint64, nonblock bool) (uint64, error) {
	if n < 8 {
		return 0, unix.EINVAL
	}
	for {
		wait := t.vm.files.waitChan()
		e.mu.Lock()
		if e.count > 0 {
			v := e.count
			if e.semaphore {
				v = 1
			}
			e.count -= v
			e.mu.Unlock()
			return 8, t.vm.as.CopyOut(va, binary.LittleEndian.AppendUint64(nil, v))
		}
		e.mu.Unlock()
		if nonblock {
			return 0, unix.EAGAIN
		}
		if t.block(wait, zeroTime) == interrupted {
			return 0, unix.EINTR
		}
	}
}

func (e *eventfd) write(t *thread, va, n uint64, _ bool) (uint64, error) {
	if n < 8 {
		return 0, unix.EINVAL
	}
	b := make([]byte, 8)
	if err := t.vm.as.CopyIn(b, va); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(b)
	if v == math.MaxUint64 {
		return 0, unix.EINVAL
	}
	e.mu.Lock()
	if e.count+v < e.count || e.count+v == math.MaxUint64 {
		e.mu.Unlock()
		return 0, unix.EAGAIN
	}
	e.count += v
	e.gen++
	e.mu.Unlock()
	t.vm.files.notify()
	return 8, nil
}

func (e *eventfd) ready() (uint32, uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := uint32(unix.EPOLLOUT)
	if e.count > 0 {
		ev |= unix.EPOLLIN
	}
	return ev, e.gen
}
