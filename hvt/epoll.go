package hvt

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var zeroTime time.Time

// epoll is an epoll instance over the guest's descriptors.
type epoll struct {
	mu    sync.Mutex
	items map[int]*epollItem
}

type epollItem struct {
	d       *fd
	events  uint32
	data    uint64
	lastGen uint64 // for EPOLLET: the generation last reported
}

func sysEpollCreate1(t *thread, a *args) (uint64, outcome) {
	if a[0]&^unix.EPOLL_CLOEXEC != 0 {
		return errno(unix.EINVAL), resume
	}
	ep := &epoll{items: map[int]*epollItem{}}
	return ret(t.vm.files.install(&fd{f: ep, accmode: unix.O_RDWR, cloexec: a[0] != 0}))
}

func (ep *epoll) read(*thread, uint64, uint64, bool) (uint64, error)  { return 0, unix.EINVAL }
func (ep *epoll) write(*thread, uint64, uint64, bool) (uint64, error) { return 0, unix.EINVAL }
func (ep *epoll) ready() (uint32, uint64)                             { return 0, 0 }

// forget drops descriptor n (closed) from the interest list.
func (ep *epoll) forget(n int, d *fd) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if it := ep.items[n]; it != nil && it.d == d {
		delete(ep.items, n)
	}
}

func sysEpollCtl(t *thread, a *args) (uint64, outcome) {
	epfd, op, n, event := a[0], a[1], a[2], a[3]
	e, err := t.vm.files.get(epfd)
	if err != nil {
		return errno(err), resume
	}
	ep, ok := e.f.(*epoll)
	if !ok {
		return errno(unix.EINVAL), resume
	}
	d, err := t.vm.files.get(n)
	if err != nil {
		return errno(err), resume
	}
	if d == e {
		return errno(unix.EINVAL), resume
	}
	var events uint32
	var data uint64
	if op != unix.EPOLL_CTL_DEL {
		b := make([]byte, 12)
		if err := t.vm.as.CopyIn(b, event); err != nil {
			return errno(err), resume
		}
		events, data = binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:])
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	it := ep.items[int(n)]
	switch op {
	case unix.EPOLL_CTL_ADD:
		if it != nil {
			return errno(unix.EEXIST), resume
		}
		ep.items[int(n)] = &epollItem{d: d, events: events, data: data, lastGen: ^uint64(0)}
	case unix.EPOLL_CTL_MOD:
		if it == nil {
			return errno(unix.ENOENT), resume
		}
		it.events, it.data, it.lastGen = events, data, ^uint64(0)
	case unix.EPOLL_CTL_DEL:
		if it == nil {
			return errno(unix.ENOENT), resume
		}
		delete(ep.items, int(n))
	default:
		return errno(unix.EINVAL), resume
	}
	t.vm.files.notify()
	return 0, resume
}

// collect fills up to max events that are ready now.
func (ep *epoll) collect(max int) []byte {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var out []byte
	for _, it := range ep.items {
		if len(out)/12 >= max {
			break
		}
		ev, gen := it.d.f.ready()
		ev &= it.events | unix.EPOLLERR | unix.EPOLLHUP
		if ev == 0 {
			continue
		}
		if it.events&unix.EPOLLET != 0 {
			if gen == it.lastGen {
				continue
			}
			it.lastGen = gen
		}
		out = binary.LittleEndian.AppendUint32(out, ev)
		out = binary.LittleEndian.AppendUint64(out, it.data)
		if it.events&unix.EPOLLONESHOT != 0 {
			it.events = 0
		}
	}
	return out
}

func sysEpollWait(t *thread, a *args) (uint64, outcome) {
	return t.epollWait(a[0], a[1], a[2], int64(int32(a[3])))
}

func sysEpollPwait(t *thread, a *args) (uint64, outcome) {
	return t.epollWait(a[0], a[1], a[2], int64(int32(a[3])))
}

// epollWait waits up to timeoutMs (forever if negative) for ready events.
func (t *thread) epollWait(epfd, events, maxEvents uint64, timeoutMs int64) (uint64, outcome) {
	e, err := t.vm.files.get(epfd)
	if err != nil {
		return errno(err), resume
	}
	ep, ok := e.f.(*epoll)
	if !ok || maxEvents == 0 || maxEvents > 1<<16 {
		return errno(unix.EINVAL), resume
	}
	var deadline time.Time
	if timeoutMs >= 0 {
		deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
	for {
		wait := t.vm.files.waitChan()
		if out := ep.collect(int(maxEvents)); len(out) > 0 {
			return ret(uint64(len(out)/12), t.vm.as.CopyOut(events, out))
		}
		if timeoutMs == 0 {
			return 0, resume
		}
		switch t.block(wait, deadline) {
		case timedOut:
			return 0, resume
		case interrupted:
			return errno(unix.EINTR), resume
		}
	}
}
