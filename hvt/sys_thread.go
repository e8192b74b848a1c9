package hvt

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/kvm"
)

const threadFlags = unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND

// sysClone starts a thread on a vCPU (a parked one if there is one). The
// child returns from the same syscall with RAX 0 on its new stack.
func sysClone(t *thread, a *args) (uint64, outcome) {
	vm := t.vm
	flags, stack, ptid, ctid, tls := a[0], a[1], a[2], a[3], a[4]
	if flags&threadFlags != threadFlags {
		return errno(unix.EPERM), resume
	}
	r := t.regs()
	child := *r
	child.RAX = 0
	child.RIP = r.RCX
	child.RFLAGS = r.R11
	if stack != 0 {
		child.RSP = stack
	}
	req := cloneReq{regs: child, fs: tls, tls: flags&unix.CLONE_SETTLS != 0}

	vm.mu.Lock()
	var c *thread
	if n := len(vm.parked); n > 0 {
		c = vm.parked[n-1]
		vm.parked = vm.parked[:n-1]
	}
	vm.mu.Unlock()
	if c == nil {
		var err error
		if c, err = vm.newThread(); err != nil {
			return errno(unix.EAGAIN), resume
		}
	} else {
		vm.mu.Lock()
		c.tid = vm.nextTID
		vm.nextTID++
		vm.mu.Unlock()
	}
	req.tid = c.tid
	tid := make([]byte, 4)
	binary.LittleEndian.PutUint32(tid, uint32(c.tid))
	if flags&unix.CLONE_PARENT_SETTID != 0 {
		if err := vm.as.CopyOut(ptid, tid); err != nil {
			return errno(err), resume
		}
	}
	if flags&unix.CLONE_CHILD_SETTID != 0 {
		if err := vm.as.CopyOut(ctid, tid); err != nil {
			return errno(err), resume
		}
	}
	vm.mu.Lock()
	c.sigmask = t.sigmask
	c.pending = 0
	c.altstack = stackT{flags: ssDisable}
	c.clearTID = 0
	if flags&unix.CLONE_CHILD_CLEARTID != 0 {
		c.clearTID = ctid
	}
	vm.threads[c.tid] = c
	vm.live++
	fresh := c.hostTID.Load() == 0
	vm.mu.Unlock()
	if fresh {
		if err := c.setContext(req); err != nil {
			vm.crash(t, fmt.Errorf("clone: %w", err))
			return 0, stopped
		}
		vm.wg.Add(1)
		go c.loop()
	} else {
		c.wake <- req
	}
	return uint64(c.tid), resume
}

// setContext gives a vCPU that has not run yet its first registers.
func (t *thread) setContext(req cloneReq) error {
	*t.regs() = req.regs
	t.markDirty()
	if req.tls {
		return t.cpu.SetMSRs([]kvm.MSR{{Index: kvm.MSRFSBase, Data: req.fs}})
	}
	return nil
}

// revive starts a parked vCPU, which sits in the syscall stub after its
// exit call, as a new thread: the stub's return through RCX lands it where
// the parent's clone returns.
func (t *thread) revive(req cloneReq) bool {
	r := t.regs()
	stub := r.RIP // the pending doorbell must complete where it is
	*r = req.regs
	r.RIP = stub
	r.RCX, r.R11 = req.regs.RIP, req.regs.RFLAGS
	t.markDirty()
	if req.tls {
		if err := t.cpu.SetMSRs([]kvm.MSR{{Index: kvm.MSRFSBase, Data: req.fs}}); err != nil {
			t.vm.crash(t, err)
			return false
		}
	}
	return true
}

// sysExit ends the calling thread.
func sysExit(t *thread, _ *args) (uint64, outcome) {
	if t.clearTID != 0 {
		if t.vm.as.CopyOut(t.clearTID, make([]byte, 4)) == nil {
			t.vm.futexes.wake(t.clearTID, 1, ^uint32(0))
		}
	}
	return 0, parked
}

func sysExitGroup(t *thread, a *args) (uint64, outcome) {
	t.vm.stop(int(a[0] & 0xff))
	return 0, stopped
}

func sysSchedYield(*thread, *args) (uint64, outcome) {
	runtime.Gosched()
	return 0, resume
}

func sysSchedGetaffinity(t *thread, a *args) (uint64, outcome) {
	size, mask := a[1], a[2]
	if size < 8 || size%8 != 0 {
		return errno(unix.EINVAL), resume
	}
	bits := uint64(1)<<t.vm.cfg.CPUs - 1
	if t.vm.cfg.CPUs == 64 {
		bits = ^uint64(0)
	}
	return ret(8, t.vm.as.CopyOut(mask, binary.LittleEndian.AppendUint64(nil, bits)))
}

const (
	archSetFS = 0x1002
	archGetFS = 0x1003
)

func sysArchPrctl(t *thread, a *args) (uint64, outcome) {
	switch a[0] {
	case archSetFS:
		if a[1] >= kernelBase {
			return errno(unix.EPERM), resume
		}
		return ret(0, t.cpu.SetMSRs([]kvm.MSR{{Index: kvm.MSRFSBase, Data: a[1]}}))
	case archGetFS:
		m := []kvm.MSR{{Index: kvm.MSRFSBase}}
		if err := t.cpu.MSRs(m); err != nil {
			return errno(err), resume
		}
		return ret(0, t.vm.as.CopyOut(a[1], binary.LittleEndian.AppendUint64(nil, m[0].Data)))
	}
	return errno(unix.EINVAL), resume
}
