package hvt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/elfimage"
	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/kvm"
)

// minMem is the least memory a Go program needs to get through start-up
// beyond its image: the runtime commits its heap index, first arenas and
// stacks before main runs.
const minMem = 8 << 20

// VM is one running image.
type VM struct {
	cfg      Config
	log      *slog.Logger
	platform Platform
	image    *elfimage.Image

	sys  *kvm.System
	kvm  *kvm.VM
	phys *guestmem.Physical
	as   *guestmem.AddressSpace

	cpuid     []kvm.CPUIDEntry
	xcr0      uint64
	xsaveSize int
	clock     *clock
	start     time.Time

	mu       sync.Mutex
	threads  map[int]*thread
	parked   []*thread
	spares   chan spare
	spareWG  sync.WaitGroup // spare vCPUs being made; Close waits for them
	nextTID  int
	nextCPU  int
	live     int
	wg       sync.WaitGroup
	procPend uint64 // process-directed pending signals

	sigtab  *sigTable // the signal actions, in guest memory
	futexes futexTable
	files   fileTable
	nets    []*netDev
	devWG   sync.WaitGroup // device goroutines, which use guest memory; Close waits for them
	stats   stats

	done     chan struct{}
	stopOnce sync.Once
	status   int
	crashed  error
	reported sync.Map // unsupported syscall numbers already reported
}

// Run boots the image described by cfg and returns the guest's exit status.
// A non-nil error is an *Error: the guest never ran.
func Run(ctx context.Context, cfg Config) (int, error) {
	vm, err := New(cfg)
	if err != nil {
		return 0, err
	}
	defer vm.Close()
	return vm.Wait(ctx), nil
}

// New builds the VM: memory, page tables, image, stack, vDSO and the first
// vCPU, ready to run.
func New(cfg Config) (_ *VM, err error) {
	if cfg.KVMDevice == "" {
		cfg.KVMDevice = "/dev/kvm"
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.CPUs < 1 || cfg.CPUs > 64 {
		return nil, &Error{fmt.Errorf("--cpus %d: must be between 1 and 64", cfg.CPUs)}
	}
	cfg.Mem &^= guestmem.PageSize - 1
	vm := &VM{cfg: cfg, log: cfg.Log, start: time.Now(), threads: map[int]*thread{},
		nextTID: 1, done: make(chan struct{}), spares: make(chan spare, spares)}
	vm.futexes.init()
	vm.files.init(newStdin(cfg.Stdin, vm.files.notify, vm.done))
	defer func() {
		if err != nil {
			vm.Close()
			var e *Error
			if !errors.As(err, &e) {
				err = &Error{err}
			}
		}
	}()
	if err := vm.attachDevices(); err != nil {
		return nil, err
	}
	if vm.image = cfg.Loaded; vm.image == nil {
		if vm.image, err = elfimage.Open(cfg.Image); err != nil {
			return nil, err
		}
	}
	if err := CheckMem(vm.image, cfg.Mem); err != nil {
		return nil, err
	}
	if err := vm.openKVM(); err != nil {
		return nil, err
	}
	vm.useBatchScheduling()
	if vm.phys, err = guestmem.NewPhysical(cfg.Mem, guestmem.PageSize); err != nil {
		return nil, err
	}
	if err := vm.kvm.SetMemory(0, 0, vm.phys.Bytes()); err != nil {
		return nil, err
	}
	if vm.as, err = guestmem.NewAddressSpace(vm.phys, mmapTop); err != nil {
		return nil, fmt.Errorf("page tables: %w", err)
	}
	if err := vm.mapKernel(); err != nil {
		return nil, fmt.Errorf("kernel pages: %w", err)
	}
	if err := vm.loadImage(); err != nil {
		return nil, err
	}
	sp, err := vm.buildStack()
	if err != nil {
		return nil, err
	}
	if err := vm.mapVDSO(); err != nil {
		return nil, err
	}
	t, err := vm.newThread()
	if err != nil {
		return nil, err
	}
	if err := vm.startClock(t); err != nil {
		return nil, err
	}
	regs := t.regs()
	*regs = kvm.Regs{RIP: vm.image.Entry, RSP: sp, RFLAGS: 0x202}
	t.markDirty()
	vm.log.Info("boot", "image", cfg.Image, "setup", time.Since(vm.start))
	vm.prepareSpares(spares)
	vm.start0(t)
	return vm, nil
}

func (vm *VM) openKVM() error {
	sys, err := kvm.Open(vm.cfg.KVMDevice)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return fmt.Errorf("no KVM: %s does not exist (enable virtualization in the BIOS and load kvm_intel or kvm_amd)", vm.cfg.KVMDevice)
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			return fmt.Errorf("no permission to use %s (add your user to the kvm group)", vm.cfg.KVMDevice)
		}
		return fmt.Errorf("open KVM: %w", err)
	}
	vm.sys = sys
	for _, c := range []struct {
		cap  uintptr
		name string
	}{{kvm.CapUserMemory, "KVM_CAP_USER_MEMORY"}, {kvm.CapImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"},
		{kvm.CapXSAVE, "KVM_CAP_XSAVE"}, {kvm.CapXCRS, "KVM_CAP_XCRS"}, {kvm.CapSyncRegs, "KVM_CAP_SYNC_REGS"}} {
		if sys.Check(c.cap) == 0 {
			return fmt.Errorf("%s: this KVM lacks %s", vm.cfg.KVMDevice, c.name)
		}
	}
	vm.platform = detectPlatform()
	if vm.cpuid, err = sys.SupportedCPUID(); err != nil {
		return err
	}
	vm.setupCPUID()
	if vm.kvm, err = sys.CreateVM(); err != nil {
		return err
	}
	vm.log.Info("kvm", "platform", vm.platform.String(),
		"mem", FormatSize(vm.cfg.Mem), "cpus", vm.cfg.CPUs)
	return nil
}

// Close releases the VM's host resources.
func (vm *VM) Close() {
	vm.stop(0)
	vm.stopDevices()
	vm.spareWG.Wait()
	vm.mu.Lock()
	threads := vm.allThreads()
	vm.mu.Unlock()
	for _, t := range threads {
		t.cpu.Close()
	}
	for len(vm.spares) > 0 {
		(<-vm.spares).cpu.Close()
	}
	if vm.kvm != nil {
		vm.kvm.Close()
	}
	if vm.sys != nil {
		vm.sys.Close()
	}
	if vm.phys != nil {
		vm.phys.Close()
	}
}

func (vm *VM) allThreads() []*thread {
	var ts []*thread
	for _, t := range vm.threads {
		ts = append(ts, t)
	}
	return append(ts, vm.parked...)
}

// Wait runs the guest until it exits or ctx ends, and returns its status.
func (vm *VM) Wait(ctx context.Context) int {
	go func() {
		select {
		case <-ctx.Done():
			vm.stop(128 + int(unix.SIGKILL))
		case <-vm.done:
		}
	}()
	<-vm.done
	vm.mu.Lock()
	for _, t := range vm.allThreads() {
		t.kick()
	}
	vm.mu.Unlock()
	vm.wg.Wait()
	vm.log.Info("exit", "status", vm.status, "elapsed", time.Since(vm.start), "exits", vm.stats.exits.Load(),
		"syscalls", vm.stats.syscalls.Load(), "signals", vm.stats.signals.Load(), "faults", vm.stats.faults.Load(), "mem_used", FormatSize(vm.phys.Used()))
	vm.log.Info("syscalls", "top", vm.stats.topCalls(12))
	for _, n := range vm.nets {
		n.logStats()
	}
	return vm.status
}

// stop ends the VM with status; the first call wins.
func (vm *VM) stop(status int) {
	vm.stopOnce.Do(func() {
		vm.status = status
		close(vm.done)
	})
}

func (vm *VM) stopped() bool {
	select {
	case <-vm.done:
		return true
	default:
		return false
	}
}

// Signal sends a process-directed signal to the guest, as kill(2) from
// the host would.
func (vm *VM) Signal(sig unix.Signal) { vm.queueProcessSignal(int(sig)) }

// CheckMem reports whether mem bytes can hold image and a Go runtime's
// start-up.
func CheckMem(image *elfimage.Image, mem uint64) error {
	if need := image.FileSize() + stackSize + minMem; mem < need {
		return fmt.Errorf("--mem %s is too small for %s: it needs at least %s",
			FormatSize(mem), image.Path, FormatSize(roundUp(need, 1<<20)))
	}
	return nil
}

func roundUp(v, to uint64) uint64 { return (v + to - 1) &^ (to - 1) }

// FormatSize writes n bytes as --mem takes them: 256M, 1G, 4K, or a plain count.
func FormatSize(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}
