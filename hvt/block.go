package hvt

import "time"

// wakeReason says why a blocking system call stopped waiting.
type wakeReason int

const (
	woken wakeReason = iota
	timedOut
	interrupted // a signal to deliver, or the VM stopping
)

// block waits for ch, the deadline (none if zero), a signal the thread
// does not block, or the end of the VM.
func (t *thread) block(ch <-chan struct{}, deadline time.Time) wakeReason {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return timedOut
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timer = tm.C
	}
	for {
		if t.signalPending() {
			return interrupted
		}
		select {
		case <-ch:
			return woken
		case <-timer:
			return timedOut
		case <-t.intr:
		case <-t.vm.done:
			return interrupted
		}
	}
}

// signalPending reports whether a signal waits that t would take now.
func (t *thread) signalPending() bool {
	t.vm.mu.Lock()
	defer t.vm.mu.Unlock()
	return (t.pending|t.vm.procPend)&^t.sigmask != 0
}
