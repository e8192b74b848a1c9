package hvt

import (
	"encoding/binary"
	"io"
	"log/slog"
	"testing"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/kvm"
)

// newFakeVM builds the parts of a VM the system-call handlers use, without
// KVM: memory, descriptors, futexes, signals. Handlers that touch the vCPU
// cannot be called on it.
func newFakeVM(t *testing.T) *VM {
	t.Helper()
	return newFakeVMOn(t, VTx)
}

// newFakeVMOn is newFakeVM as on platform p, for what differs (the signal
// table's protection).
func newFakeVMOn(t *testing.T, p Platform) *VM {
	t.Helper()
	phys, err := guestmem.NewPhysical(16<<20, guestmem.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phys.Close() })
	as, err := guestmem.NewAddressSpace(phys, mmapTop)
	if err != nil {
		t.Fatal(err)
	}
	vm := &VM{cfg: Config{CPUs: 2, Stdout: io.Discard, Stderr: io.Discard}, phys: phys, as: as, platform: p,
		log: slog.New(slog.DiscardHandler), threads: map[int]*thread{}, done: make(chan struct{})}
	vm.futexes.init()
	vm.files.init(newStdin(nil, vm.files.notify, vm.done))
	if err := vm.mapSigTable(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vm.stop(0); vm.stopDevices() })
	return vm
}

func (vm *VM) fakeThread(tid int) *thread {
	// A vCPU with a kvm_run page in ordinary memory and no file: enough
	// for the registers and for kicks, not for ioctls.
	cpu := &kvm.VCPU{Run: new(kvm.Run)}
	th := &thread{vm: vm, tid: tid, cpu: cpu, intr: make(chan struct{}, 1)}
	th.altstack.flags = ssDisable
	vm.threads[tid] = th
	return th
}

// scratch maps n bytes of guest memory for a test's arguments.
func scratch(t *testing.T, vm *VM, n uint64) uint64 {
	t.Helper()
	va, err := vm.as.Mmap(0, n, guestmem.ProtRead|guestmem.ProtWrite, 0)
	if err != nil {
		t.Fatal(err)
	}
	return va
}

func putU64(t *testing.T, vm *VM, va, v uint64) {
	t.Helper()
	if err := vm.as.CopyOut(va, binary.LittleEndian.AppendUint64(nil, v)); err != nil {
		t.Fatal(err)
	}
}

func getU64(t *testing.T, vm *VM, va uint64) uint64 {
	t.Helper()
	b := make([]byte, 8)
	if err := vm.as.CopyIn(b, va); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b)
}

// call runs handler h with args and returns RAX as a signed value.
func call(th *thread, h handler, a ...uint64) int64 {
	var args args
	copy(args[:], a)
	v, _ := h(th, &args)
	return int64(v)
}
