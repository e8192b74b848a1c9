package hvt

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/kvm"
)

// maxThreads bounds the guest's threads (and so its vCPUs).
const maxThreads = 256

// thread is one guest thread and the vCPU it runs on.
type thread struct {
	vm  *VM
	tid int
	cpu *kvm.VCPU
	id  int // vCPU id

	hostTID   atomic.Int32
	attention atomic.Bool   // a kick asked the run loop to look at the thread
	intr      chan struct{} // wakes a blocking system call

	// Guarded by vm.mu.
	sigmask  uint64
	pending  uint64
	altstack stackT

	clearTID uint64        // CLONE_CHILD_CLEARTID address
	wake     chan cloneReq // hands a parked thread its next life
	spurious int           // consecutive spurious page faults
}

// cloneReq starts a parked vCPU as a new thread.
type cloneReq struct {
	tid  int
	regs kvm.Regs
	fs   uint64
	tls  bool
}

// newThread creates a thread on a new vCPU.
func (vm *VM) newThread() (*thread, error) {
	vm.mu.Lock()
	if len(vm.threads)+len(vm.parked) >= maxThreads {
		vm.mu.Unlock()
		return nil, unix.EAGAIN
	}
	tid := vm.nextTID
	vm.nextTID++
	vm.mu.Unlock()
	var id int
	var cpu *kvm.VCPU
	select {
	case s := <-vm.spares:
		id, cpu = s.id, s.cpu
		vm.prepareSpares(1)
	default:
		var err error
		id = vm.allocCPUID()
		if cpu, err = vm.newCPU(id); err != nil {
			return nil, err
		}
	}
	t := &thread{vm: vm, tid: tid, cpu: cpu, id: id, intr: make(chan struct{}, 1), wake: make(chan cloneReq, 1)}
	t.altstack.flags = ssDisable
	return t, nil
}

// spare is a vCPU made ahead of the clone that will want it: creating and
// setting up a vCPU takes about a millisecond, which a new thread then
// does not wait for.
type spare struct {
	id  int
	cpu *kvm.VCPU
}

// spares is how many vCPUs are kept ready.
const spares = 2

func (vm *VM) allocCPUID() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	id := vm.nextCPU
	vm.nextCPU++
	return id
}

// prepareSpares makes n vCPUs in the background.
func (vm *VM) prepareSpares(n int) {
	vm.spareWG.Add(1)
	go func() {
		defer vm.spareWG.Done()
		for range n {
			if vm.stopped() {
				return
			}
			id := vm.allocCPUID()
			if id >= maxThreads+spares {
				return
			}
			cpu, err := vm.newCPU(id)
			if err != nil {
				return // the clone that needs one will make it, or say why not
			}
			select {
			case vm.spares <- spare{id, cpu}:
			case <-vm.done:
				cpu.Close()
				return
			}
		}
	}()
}

// start0 starts the first thread.
func (vm *VM) start0(t *thread) {
	vm.mu.Lock()
	vm.threads[t.tid] = t
	vm.live++
	vm.mu.Unlock()
	vm.wg.Add(1)
	go t.loop()
}

// regs returns the registers of the last exit. KVM copies them into the
// shared kvm_run page on every exit (KVM_CAP_SYNC_REGS), which saves a
// KVM_GET_REGS and a KVM_SET_REGS per system call.
func (t *thread) regs() *kvm.Regs { return &t.cpu.Run.SyncRegs }

// markDirty makes the next entry load the registers from regs(). KVM
// applies them before it completes a pending port write, so only RIP must
// not change while one is pending (see completeIO).
func (t *thread) markDirty() { t.cpu.Run.DirtyRegs |= kvm.SyncRegs }

// enter runs the vCPU until its next exit.
func (t *thread) enter() error {
	err := t.cpu.RunOnce()
	t.vm.stats.exits.Add(1)
	return err
}

// completeIO finishes the pending port write without running guest code,
// so that all registers, RIP included, may be rewritten afterwards.
func (t *thread) completeIO() error {
	t.cpu.Run.DirtyRegs = 0
	t.cpu.Run.SetImmediateExit(true)
	err := t.cpu.RunOnce()
	t.cpu.Run.SetImmediateExit(false)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return err
	}
	return nil
}

// kick makes the thread look at its state soon: it interrupts a blocking
// system call, and makes KVM_RUN return (now, or at its next entry).
func (t *thread) kick() {
	t.attention.Store(true)
	t.cpu.Run.SetImmediateExit(true)
	select {
	case t.intr <- struct{}{}:
	default:
	}
	if tid := t.hostTID.Load(); tid != 0 {
		unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG)
	}
}

// loop runs the thread's vCPU on a host thread of its own.
func (t *thread) loop() {
	defer t.vm.wg.Done()
	runtime.LockOSThread() // never unlocked: the host thread ends with the loop
	t.hostTID.Store(int32(unix.Gettid()))
	for {
		t.cpu.Run.SetImmediateExit(false)
		if t.vm.stopped() {
			return
		}
		if t.attention.Swap(false) {
			t.deliverAsync()
		}
		err := t.enter()
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.vm.crash(t, fmt.Errorf("KVM_RUN: %w", err))
			return
		}
		if !t.handleExit() {
			return
		}
	}
}

// handleExit serves one exit; false ends the loop.
func (t *thread) handleExit() bool {
	run := t.cpu.Run
	switch run.ExitReason {
	case kvm.ExitIO:
		io, _ := run.IO()
		switch {
		case io.Direction == kvm.IOOut && io.Port == syscallPort:
			return t.syscall()
		case io.Direction == kvm.IOOut && io.Port >= exceptionPortBase && io.Port < exceptionPortBase+32:
			return t.exception(int(io.Port - exceptionPortBase))
		}
		t.vm.crash(t, fmt.Errorf("guest used I/O port %#x", io.Port))
	case kvm.ExitShutdown:
		t.vm.crash(t, errors.New("triple fault: the CPU could not deliver an exception"))
	case kvm.ExitInternalError:
		ie := run.InternalError()
		t.vm.crash(t, fmt.Errorf("KVM internal error %d (data %x)", ie.Suberror, ie.Data[:min(ie.NData, 16)]))
	case kvm.ExitFailEntry:
		t.vm.crash(t, fmt.Errorf("VM entry failed: reason %#x", run.FailEntry().Reason))
	case kvm.ExitMMIO:
		t.vm.crash(t, fmt.Errorf("guest touched unbacked guest-physical address %#x", run.MMIO().PhysAddr))
	default:
		t.vm.crash(t, fmt.Errorf("unexpected exit %s", kvm.ExitName(run.ExitReason)))
	}
	return false
}

// park ends the thread and keeps its vCPU for a later clone. It returns
// false when the VM stops first.
func (t *thread) park() bool {
	vm := t.vm
	vm.mu.Lock()
	delete(vm.threads, t.tid)
	vm.live--
	last := vm.live == 0
	vm.parked = append(vm.parked, t)
	vm.mu.Unlock()
	if last {
		vm.stop(0)
		return false
	}
	select {
	case req := <-t.wake:
		return t.revive(req)
	case <-vm.done:
		return false
	}
}
