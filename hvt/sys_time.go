package hvt

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// readTimespec reads a struct timespec from the guest as a duration.
func (t *thread) readTimespec(va uint64) (time.Duration, error) {
	b := make([]byte, 16)
	if err := t.vm.as.CopyIn(b, va); err != nil {
		return 0, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > 1<<32 {
		sec = 1 << 32
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func (t *thread) writeTimespec(va uint64, d time.Duration) error {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
	return t.vm.as.CopyOut(va, b)
}

// absDeadline converts an absolute time on CLOCK_MONOTONIC (or
// CLOCK_REALTIME) into a host deadline.
func absDeadline(ts time.Duration, realtime bool) time.Time {
	if realtime {
		return time.Unix(0, int64(ts))
	}
	return time.Now().Add(ts - monotonicNow())
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// sleep blocks for d, and on a signal stores what is left at rem.
func (t *thread) sleep(deadline time.Time, rem uint64) (uint64, outcome) {
	if t.block(nil, deadline) != interrupted {
		return 0, resume
	}
	if rem != 0 {
		t.writeTimespec(rem, max(time.Until(deadline), 0))
	}
	return errno(unix.EINTR), resume
}

func sysNanosleep(t *thread, a *args) (uint64, outcome) {
	d, err := t.readTimespec(a[0])
	if err != nil {
		return errno(err), resume
	}
	return t.sleep(time.Now().Add(d), a[1])
}

func sysClockNanosleep(t *thread, a *args) (uint64, outcome) {
	clock, flags, req, rem := a[0], a[1], a[2], a[3]
	d, err := t.readTimespec(req)
	if err != nil {
		return errno(err), resume
	}
	if flags&unix.TIMER_ABSTIME != 0 {
		return t.sleep(absDeadline(d, clock == unix.CLOCK_REALTIME), 0)
	}
	return t.sleep(time.Now().Add(d), rem)
}

func sysClockGettime(t *thread, a *args) (uint64, outcome) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(a[0]), &ts); err != nil {
		return errno(err), resume
	}
	return ret(0, t.writeTimespec(a[1], time.Duration(ts.Nano())))
}

func sysClockGetres(t *thread, a *args) (uint64, outcome) {
	if a[1] == 0 {
		return 0, resume
	}
	return ret(0, t.writeTimespec(a[1], 1))
}

func sysGetrandom(t *thread, a *args) (uint64, outcome) {
	buf, n := a[0], min(a[1], 1<<25)
	err := t.vm.as.Each(buf, n, true, func(b []byte) error {
		_, err := rand.Read(b)
		return err
	})
	return ret(n, err)
}

func sysUname(t *thread, a *args) (uint64, outcome) {
	b := make([]byte, 6*65)
	for i, s := range []string{"Linux", "morgana", "6.1.0-morgana", "#1 morgana", "x86_64", "(none)"} {
		copy(b[i*65:], s)
	}
	return ret(0, t.vm.as.CopyOut(a[0], b))
}

// Resource limits the guest sees (cur, max); others are unlimited.
var rlimits = map[uint64][2]uint64{
	unix.RLIMIT_NOFILE: {1024, 1024},
	unix.RLIMIT_STACK:  {stackSize, stackSize},
	unix.RLIMIT_NPROC:  {maxThreads, maxThreads},
}

func sysPrlimit64(t *thread, a *args) (uint64, outcome) {
	pid, res, old := a[0], a[1], a[3]
	if pid != 0 && pid != guestPID {
		return errno(unix.ESRCH), resume
	}
	if res >= 16 { // RLIM_NLIMITS
		return errno(unix.EINVAL), resume
	}
	if old != 0 {
		lim, ok := rlimits[res]
		if !ok {
			lim = [2]uint64{unix.RLIM_INFINITY, unix.RLIM_INFINITY}
		}
		b := binary.LittleEndian.AppendUint64(nil, lim[0])
		b = binary.LittleEndian.AppendUint64(b, lim[1])
		if err := t.vm.as.CopyOut(old, b); err != nil {
			return errno(err), resume
		}
	}
	return 0, resume
}
