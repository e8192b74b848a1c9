package hvt

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

func validSignal(sig uint64) bool { return sig >= 1 && sig <= nsig }

// sysRtSigaction serves the rt_sigaction calls the PVM syscall stub leaves
// to the monitor (those that fail with EINVAL, or have neither act nor
// oact) and, with hardware virtualization, all of them. Its checks come in
// Linux's order: the size, reading act, then the signal.
func sysRtSigaction(t *thread, a *args) (uint64, outcome) {
	sig, act, oact, size := a[0], a[1], a[2], a[3]
	if size != 8 {
		return errno(unix.EINVAL), resume
	}
	var next sigaction
	if act != 0 {
		b := make([]byte, 32)
		if err := t.vm.as.CopyIn(b, act); err != nil {
			return errno(err), resume
		}
		le := binary.LittleEndian
		next = sigaction{handler: le.Uint64(b), flags: le.Uint64(b[8:]), restorer: le.Uint64(b[16:]),
			mask: le.Uint64(b[24:]) &^ unblockable}
	}
	if !validSignal(sig) || act != 0 && (sig == uint64(unix.SIGKILL) || sig == uint64(unix.SIGSTOP)) {
		return errno(unix.EINVAL), resume
	}
	var prev sigaction
	if act != 0 {
		prev = t.vm.sigtab.swap(int(sig), next)
	} else {
		prev = t.vm.sigtab.load(int(sig))
	}
	if oact != 0 {
		b := make([]byte, 32)
		le := binary.LittleEndian
		le.PutUint64(b, prev.handler)
		le.PutUint64(b[8:], prev.flags)
		le.PutUint64(b[16:], prev.restorer)
		le.PutUint64(b[24:], prev.mask)
		if err := t.vm.as.CopyOut(oact, b); err != nil {
			return errno(err), resume
		}
	}
	return 0, resume
}

func sysRtSigprocmask(t *thread, a *args) (uint64, outcome) {
	how, set, oset, size := a[0], a[1], a[2], a[3]
	if size != 8 {
		return errno(unix.EINVAL), resume
	}
	var next uint64
	if set != 0 {
		b := make([]byte, 8)
		if err := t.vm.as.CopyIn(b, set); err != nil {
			return errno(err), resume
		}
		next = binary.LittleEndian.Uint64(b)
	}
	t.vm.mu.Lock()
	prev := t.sigmask
	if set != 0 {
		switch how {
		case unix.SIG_BLOCK:
			t.sigmask |= next
		case unix.SIG_UNBLOCK:
			t.sigmask &^= next
		case unix.SIG_SETMASK:
			t.sigmask = next
		default:
			t.vm.mu.Unlock()
			return errno(unix.EINVAL), resume
		}
		t.sigmask &^= unblockable
	}
	t.vm.mu.Unlock()
	if oset != 0 {
		b := binary.LittleEndian.AppendUint64(nil, prev)
		if err := t.vm.as.CopyOut(oset, b); err != nil {
			return errno(err), resume
		}
	}
	return 0, resume
}

func sysSigaltstack(t *thread, a *args) (uint64, outcome) {
	ss, oss := a[0], a[1]
	le := binary.LittleEndian
	t.vm.mu.Lock()
	prev := t.altstack
	t.vm.mu.Unlock()
	sp := t.regs().RSP
	if oss != 0 {
		b := make([]byte, 24)
		flags := prev.flags
		if prev.contains(sp) {
			flags |= ssOnstack
		}
		le.PutUint64(b, prev.sp)
		le.PutUint32(b[8:], uint32(flags))
		le.PutUint64(b[16:], prev.size)
		if err := t.vm.as.CopyOut(oss, b); err != nil {
			return errno(err), resume
		}
	}
	if ss == 0 {
		return 0, resume
	}
	b := make([]byte, 24)
	if err := t.vm.as.CopyIn(b, ss); err != nil {
		return errno(err), resume
	}
	next := stackT{sp: le.Uint64(b), flags: int32(le.Uint32(b[8:])), size: le.Uint64(b[16:])}
	switch {
	case prev.contains(sp):
		return errno(unix.EPERM), resume
	case next.flags&^ssDisable != 0:
		return errno(unix.EINVAL), resume
	case next.flags&ssDisable == 0 && next.size < minSigStk:
		return errno(unix.ENOMEM), resume
	}
	if next.flags&ssDisable != 0 {
		next = stackT{flags: ssDisable}
	}
	t.vm.mu.Lock()
	t.altstack = next
	t.vm.mu.Unlock()
	return 0, resume
}

func sysKill(t *thread, a *args) (uint64, outcome) {
	pid, sig := int64(a[0]), a[1]
	if pid != 0 && pid != guestPID && pid != -1 {
		return errno(unix.ESRCH), resume
	}
	if sig == 0 {
		return 0, resume
	}
	if !validSignal(sig) {
		return errno(unix.EINVAL), resume
	}
	t.vm.queueProcessSignal(int(sig))
	return 0, resume
}

func sysTgkill(t *thread, a *args) (uint64, outcome) {
	tgid, tid, sig := int64(a[0]), int(a[1]), a[2]
	if tgid != guestPID {
		return errno(unix.ESRCH), resume
	}
	if sig != 0 && !validSignal(sig) {
		return errno(unix.EINVAL), resume
	}
	t.vm.mu.Lock()
	target := t.vm.threads[tid]
	t.vm.mu.Unlock()
	if target == nil {
		return errno(unix.ESRCH), resume
	}
	if sig != 0 {
		if target == t {
			t.vm.mu.Lock()
			t.pending |= sigbit(int(sig))
			t.vm.mu.Unlock()
		} else {
			t.vm.queueThreadSignal(target, int(sig))
		}
	}
	return 0, resume
}
