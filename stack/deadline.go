package stack

import (
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/waiter"
)

// deadline is one direction's deadline of a connection.
//
// Setting it only stores the time: net/http sets four deadlines per
// request (header, body, write, idle), and gonet's way, a new timer per
// call, cost about 5% of a small request's CPU. A timer runs only while an
// operation is blocked, and the blocked operation arms it itself (see
// blocker), so a deadline that changes while nothing waits costs no timer
// at all.
type deadline struct {
	mu      sync.Mutex
	at      time.Time     // zero: none
	changed chan struct{} // closed when at changes while operations wait
	waiting int           // operations between watch and unwatch
}

// set changes the deadline and wakes whatever waits under the old one.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.at = t
	if d.waiting > 0 && d.changed != nil { // nil: closed by a change the waiters have yet to see
		close(d.changed)
		d.changed = nil
	}
	d.mu.Unlock()
}

// passed reports whether the deadline is set and not in the future.
func (d *deadline) passed() bool {
	d.mu.Lock()
	at := d.at
	d.mu.Unlock()
	// Since reads only the monotonic clock for a deadline made from
	// time.Now, as deadlines are: one clock read, where Now makes two.
	return !at.IsZero() && time.Since(at) >= 0
}

// watch returns the deadline and a channel that is closed when it
// changes, until unwatch: the channel is made again only after a change
// that closed it.
func (d *deadline) watch() (time.Time, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	d.waiting++
	return d.at, d.changed
}

func (d *deadline) unwatch() {
	d.mu.Lock()
	d.waiting--
	d.mu.Unlock()
}

// blocker blocks an operation until the endpoint signals, or the deadline
// passes or changes. A TCP connection keeps one for its reads and one for
// its writes, which are serialised, so that a blocked operation reuses a
// timer rather than allocating one.
type blocker struct {
	timer *time.Timer
}

// wait blocks until notify fires or done is closed (nil: never), or the
// deadline changes or passes; it reports whether the deadline passed. The
// caller retries its operation after a wake-up, which may be spurious.
func (w *blocker) wait(d *deadline, notify, done <-chan struct{}) (timedOut bool) {
	at, changed := d.watch()
	defer d.unwatch()
	if at.IsZero() {
		select {
		case <-notify:
		case <-changed:
		case <-done:
		}
		return false
	}
	left := time.Until(at)
	if left <= 0 {
		return true
	}
	if w.timer == nil {
		w.timer = time.NewTimer(left)
	} else {
		w.timer.Reset(left)
	}
	defer w.timer.Stop()
	select {
	case <-notify:
	case <-changed:
	case <-done:
	case <-w.timer.C:
		return d.passed() // it may have moved since
	}
	return false
}

// side is one direction of a TCP connection: its deadline and what a
// blocked Read or Write waits with, kept for the connection's life so that
// blocking allocates nothing. A side's operations are serialised by mu.
type side struct {
	mu         sync.Mutex
	deadline   deadline
	block      blocker
	entry      waiter.Entry
	notify     chan struct{} // entry's; made when the side first blocks
	registered bool          // entry is in the endpoint's queue
}

// register asks the endpoint's queue to signal notify on mask's events.
func (s *side) register(wq *waiter.Queue, mask waiter.EventMask) {
	if s.notify == nil {
		s.entry, s.notify = waiter.NewChannelEntry(mask)
	}
	wq.EventRegister(&s.entry)
	s.registered = true
}

// unregister undoes register, if it was done.
func (s *side) unregister(wq *waiter.Queue) {
	if s.registered {
		wq.EventUnregister(&s.entry)
		s.registered = false
	}
}

// wait blocks until the endpoint signals or the deadline changes or
// passes; it reports whether it passed.
func (s *side) wait() bool { return s.block.wait(&s.deadline, s.notify, nil) }
