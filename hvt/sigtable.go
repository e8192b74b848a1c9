package hvt

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

// sigTable is the process's signal actions. They live in a page of guest
// memory (sigtabVA, laid out as x86.SigTable* says) and nowhere else: on
// PVM the syscall stub reads and sets them there without an exit
// (x86.SigactionStub), and the monitor uses the same sequence lock (odd
// while someone writes; writers take it by a compare-and-swap from even to
// odd, readers retry while it is odd or has changed).
//
// On PVM the page is the guest's to write, so the monitor trusts nothing
// in it: every word is some value rt_sigaction would have let the guest
// set anyway, except what sanitize restores (SIGKILL and SIGSTOP keep
// their default action and are never masked), and the monitor waits for
// a sequence the guest may hold odd for at most wait. Past that (a guest
// bug, or a malicious guest) the monitor reads the words as they stand and
// writes without the lock: the guest can garble only its own actions, and
// cannot hold up a monitor thread for longer than wait a call.
//
// The monitor's own writers also take mu, so that they never wait for
// each other through the sequence, and so that the bound can only ever
// expire against the guest: with hardware virtualization, where the guest
// cannot write the page, it never expires.
type sigTable struct {
	page []byte
	wait time.Duration
	mu   sync.Mutex   // held by the monitor's writers
	log  *slog.Logger // nil: say nothing
	said atomic.Bool  // the guest was reported for holding the lock
}

// sigTableWait bounds how long the monitor waits for a lock the guest
// holds. The stub holds it for a dozen instructions; only a vCPU whose
// host thread is preempted right then holds it longer, and far less long
// than this. A guest that never lets go pays it on each signal it gets.
const sigTableWait = 100 * time.Millisecond

// sigTableArrays are the table's four arrays, in struct sigaction's order.
var sigTableArrays = [4]int{x86.SigTableHandler, x86.SigTableFlags, x86.SigTableRestorer, x86.SigTableMask}

func (st *sigTable) seq() *uint32 { return (*uint32)(unsafe.Pointer(&st.page[x86.SigTableSeq])) }

// words returns sig's four words (1 <= sig <= nsig, which callers check).
func (st *sigTable) words(sig int) [4]*uint64 {
	var w [4]*uint64
	for i, off := range sigTableArrays {
		w[i] = (*uint64)(unsafe.Pointer(&st.page[off+(sig-1)*8]))
	}
	return w
}

func (st *sigTable) read(sig int) sigaction {
	w := st.words(sig)
	return sanitize(sig, sigaction{handler: atomic.LoadUint64(w[0]), flags: atomic.LoadUint64(w[1]),
		restorer: atomic.LoadUint64(w[2]), mask: atomic.LoadUint64(w[3])})
}

func (st *sigTable) write(sig int, a sigaction) {
	w := st.words(sig)
	atomic.StoreUint64(w[0], a.handler)
	atomic.StoreUint64(w[1], a.flags)
	atomic.StoreUint64(w[2], a.restorer)
	atomic.StoreUint64(w[3], a.mask)
}

// sanitize makes what the guest may have written in the table an action
// Linux could hold for sig.
func sanitize(sig int, a sigaction) sigaction {
	if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
		return sigaction{}
	}
	a.mask &^= unblockable
	return a
}

// load returns sig's action.
func (st *sigTable) load(sig int) sigaction {
	var b backoff
	for {
		if a, ok := st.tryLoad(sig); ok {
			return a
		}
		if !b.wait(st.wait) {
			break
		}
	}
	// Past the bound: once no monitor writer holds the sequence, whoever
	// still does is the guest.
	st.mu.Lock()
	defer st.mu.Unlock()
	if a, ok := st.tryLoad(sig); ok {
		return a
	}
	st.stuck()
	return st.read(sig)
}

// tryLoad reads sig's action once, and reports whether no writer was busy.
func (st *sigTable) tryLoad(sig int) (sigaction, bool) {
	seq := st.seq()
	s := atomic.LoadUint32(seq)
	if s&1 != 0 {
		return sigaction{}, false
	}
	a := st.read(sig)
	return a, atomic.LoadUint32(seq) == s
}

// update sets sig's action to what next makes of the current one (unless
// next declines) and returns the action it replaced, in one step under the
// lock.
func (st *sigTable) update(sig int, next func(sigaction) (sigaction, bool)) sigaction {
	st.mu.Lock()
	defer st.mu.Unlock()
	seq := st.seq()
	var b backoff
	for {
		if s := atomic.LoadUint32(seq); s&1 == 0 && atomic.CompareAndSwapUint32(seq, s, s+1) {
			prev := st.read(sig)
			if a, ok := next(prev); ok {
				st.write(sig, a)
			}
			atomic.AddUint32(seq, 1)
			return prev
		}
		if !b.wait(st.wait) {
			st.stuck()
			prev := st.read(sig)
			if a, ok := next(prev); ok {
				st.write(sig, a)
			}
			return prev
		}
	}
}

// swap sets sig's action and returns the previous one.
func (st *sigTable) swap(sig int, a sigaction) sigaction {
	return st.update(sig, func(sigaction) (sigaction, bool) { return a, true })
}

// deliver returns the action to take for sig as it is delivered. A handler
// installed with SA_RESETHAND is reset to SIG_DFL in the same step, as
// Linux does when it dequeues the signal, so that two threads cannot both
// take it.
func (st *sigTable) deliver(sig int) sigaction {
	oneShot := func(a sigaction) bool { return a.flags&saResethand != 0 && a.handler != sigDfl && a.handler != sigIgn }
	if a := st.load(sig); !oneShot(a) {
		return a
	}
	return st.update(sig, func(a sigaction) (sigaction, bool) {
		if !oneShot(a) {
			return a, false // changed since: take it as it is now
		}
		a.handler = sigDfl // Linux keeps the flags, mask and restorer
		return a, true
	})
}

// stuck notes, once, that the guest held the lock past the bound.
func (st *sigTable) stuck() {
	if st.log != nil && !st.said.Swap(true) {
		st.log.Warn("the guest held its signal table's lock too long; the monitor used the table without it", "wait", st.wait)
	}
}

// backoff paces retries for a lock the guest may hold.
type backoff struct {
	n        int
	deadline time.Time
}

// wait pauses before the next try, and reports false once limit has passed
// since the first pause: spinning first, since a holder on another vCPU is
// most likely a few instructions from done, then sleeping, since one whose
// thread is off the host CPU may need this thread's CPU to finish.
func (b *backoff) wait(limit time.Duration) bool {
	b.n++
	if b.n <= 64 {
		return true
	}
	now := time.Now()
	if b.deadline.IsZero() {
		b.deadline = now.Add(limit)
	}
	if now.After(b.deadline) {
		return false
	}
	time.Sleep(20 * time.Microsecond)
	return true
}
