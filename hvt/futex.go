package hvt

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// futexTable holds the threads waiting on guest words, keyed by address
// (the guest has one address space, so private and shared futexes agree).
type futexTable struct {
	mu      sync.Mutex
	waiters map[uint64][]*futexWaiter
}

type futexWaiter struct {
	ch     chan struct{}
	bitset uint32
}

func (f *futexTable) init() { f.waiters = map[uint64][]*futexWaiter{} }

// wake wakes up to n waiters on addr whose bitset meets bitset.
func (f *futexTable) wake(addr uint64, n int, bitset uint32) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws := f.waiters[addr]
	woken := 0
	for i := 0; i < len(ws) && woken < n; {
		if ws[i].bitset&bitset == 0 {
			i++
			continue
		}
		ws[i].ch <- struct{}{}
		ws = append(ws[:i], ws[i+1:]...)
		woken++
	}
	if len(ws) == 0 {
		delete(f.waiters, addr)
	} else {
		f.waiters[addr] = ws
	}
	return woken
}

func (f *futexTable) remove(addr uint64, w *futexWaiter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws := f.waiters[addr]
	for i, x := range ws {
		if x == w {
			f.waiters[addr] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(f.waiters[addr]) == 0 {
		delete(f.waiters, addr)
	}
}

const (
	futexWait        = 0
	futexWake        = 1
	futexWaitBitset  = 9
	futexWakeBitset  = 10
	futexPrivate     = 128
	futexClockRealtm = 256
)

func sysFutex(t *thread, a *args) (uint64, outcome) {
	addr, op, val, timeout, bitset := a[0], a[1], uint32(a[2]), a[3], uint32(a[5])
	cmd := op &^ (futexPrivate | futexClockRealtm)
	switch cmd {
	case futexWait, futexWaitBitset:
		if cmd == futexWait {
			bitset = ^uint32(0)
		}
		if bitset == 0 {
			return errno(unix.EINVAL), resume
		}
		var deadline time.Time
		if timeout != 0 {
			ts, err := t.readTimespec(timeout)
			if err != nil {
				return errno(err), resume
			}
			if cmd == futexWait {
				deadline = time.Now().Add(ts)
			} else {
				deadline = absDeadline(ts, op&futexClockRealtm != 0)
			}
		}
		return ret(0, t.futexWait(addr, val, bitset, deadline))
	case futexWake, futexWakeBitset:
		if cmd == futexWake {
			bitset = ^uint32(0)
		}
		if bitset == 0 {
			return errno(unix.EINVAL), resume
		}
		n := int(min(val, 1<<30))
		return uint64(t.vm.futexes.wake(addr, n, bitset)), resume
	}
	return errno(unix.ENOSYS), resume
}

// futexWait sleeps while the guest's word at addr holds val, until woken,
// the deadline, or a signal.
func (t *thread) futexWait(addr uint64, val, bitset uint32, deadline time.Time) error {
	f := &t.vm.futexes
	p, err := t.vm.as.Uint32(addr, false)
	if err != nil {
		return err
	}
	w := &futexWaiter{ch: make(chan struct{}, 1), bitset: bitset}
	f.mu.Lock()
	if atomic.LoadUint32(p) != val {
		f.mu.Unlock()
		return unix.EAGAIN
	}
	f.waiters[addr] = append(f.waiters[addr], w)
	f.mu.Unlock()
	switch t.block(w.ch, deadline) {
	case woken:
		return nil
	case timedOut:
		f.remove(addr, w)
	default:
		f.remove(addr, w)
	}
	// A wake may have raced with the timeout or signal: keep it.
	select {
	case <-w.ch:
		return nil
	default:
	}
	if t.vm.stopped() {
		return unix.EINTR
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return unix.ETIMEDOUT
	}
	return unix.EINTR
}
