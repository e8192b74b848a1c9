package hvt

import (
	"fmt"

	"github.com/morgana-os/morgana/kvm"
	"github.com/morgana-os/morgana/x86"
)

// XSAVE features the guest may enable: x87, SSE, AVX and AVX-512 state;
// not AMX, whose state would not fit a 4 KiB kvm_xsave.
const xcr0Allowed = 0xe7

func (vm *VM) cpuidLeaf(fn, index uint32) (*kvm.CPUIDEntry, bool) {
	for i := range vm.cpuid {
		e := &vm.cpuid[i]
		if e.Function == fn && (e.Index == index || e.Flags&1 == 0) {
			return e, true
		}
	}
	return nil, false
}

// setupCPUID derives the guest's XCR0 and signal-frame XSAVE size from what
// KVM supports.
func (vm *VM) setupCPUID() {
	vm.xcr0 = 3 // x87 and SSE at least
	if e, ok := vm.cpuidLeaf(0xd, 0); ok {
		vm.xcr0 = (uint64(e.EAX) | uint64(e.EDX)<<32) & xcr0Allowed
	}
	// The XSAVE area for the enabled features: the largest offset+size
	// among them (CPUID 0xD, sub-leaf i), at least the legacy area and
	// header.
	vm.xsaveSize = 576
	for i := uint32(2); i < 8; i++ {
		if vm.xcr0&(1<<i) == 0 {
			continue
		}
		if e, ok := vm.cpuidLeaf(0xd, i); ok {
			vm.xsaveSize = max(vm.xsaveSize, int(e.EBX+e.EAX))
		}
	}
}

// newCPU creates vCPU id and puts it in 64-bit mode, ring 3, with the
// system registers and per-CPU pages the stubs need.
func (vm *VM) newCPU(id int) (*kvm.VCPU, error) {
	cpu, err := vm.kvm.CreateVCPU(id)
	if err != nil {
		return nil, err
	}
	if err := vm.setupCPU(cpu, id); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("vCPU %d: %w", id, err)
	}
	return cpu, nil
}

func (vm *VM) setupCPU(cpu *kvm.VCPU, id int) error {
	if err := cpu.SetCPUID(vm.cpuid); err != nil {
		return err
	}
	page, err := vm.kernelPage(cpuPageVA(id), true)
	if err != nil {
		return err
	}
	for i := 0; i < istPages; i++ {
		if _, err := vm.kernelPage(cpuPageVA(id)+istStackOff+uint64(i)*4096, true); err != nil {
			return err
		}
	}
	tss := cpuPageVA(id) + cpuTSSOff
	x86.PutGDT(page, tss)
	x86.PutTSS(page[cpuTSSOff:], istTop(id), vm.platform.doorbellPorts())

	s, err := cpu.Sregs()
	if err != nil {
		return err
	}
	s.CS = userCode
	data := userData
	s.SS, s.DS, s.ES, s.FS, s.GS = data, data, data, data, data
	s.TR = kvm.Segment{Base: tss, Limit: x86.TSSLimit, Selector: x86.TSSSel, Type: 11, Present: 1}
	s.LDT = kvm.Segment{Type: 2, Present: 1, Unusable: 1}
	s.GDT = kvm.DTable{Base: cpuPageVA(id), Limit: x86.GDTEntries*8 - 1}
	s.IDT = kvm.DTable{Base: idtVA, Limit: x86.IDTSize - 1}
	s.CR0 = x86.CR0PE | x86.CR0MP | x86.CR0ET | x86.CR0NE | x86.CR0WP | x86.CR0PG
	s.CR3 = vm.as.Root()
	s.CR4 = x86.CR4PAE | x86.CR4OSFXSR | x86.CR4OSXMMEXCPT | x86.CR4OSXSAVE
	s.EFER = x86.EFERSCE | x86.EFERLME | x86.EFERLMA | x86.EFERNXE
	if err := cpu.SetSregs(&s); err != nil {
		return err
	}
	lstar, mask := vm.platform.syscallEntry()
	if err := cpu.SetMSRs([]kvm.MSR{
		{Index: kvm.MSRSTAR, Data: x86.STAR},
		{Index: kvm.MSRLSTAR, Data: lstar},
		{Index: kvm.MSRCSTAR, Data: 0},
		{Index: kvm.MSRSyscallMask, Data: mask},
		{Index: kvm.MSRKernelGSBase, Data: 0},
		{Index: kvm.MSRPAT, Data: 0x0007040600070406},
	}); err != nil {
		return err
	}
	if err := cpu.SetXCR0(vm.xcr0); err != nil {
		return err
	}
	cpu.Run.ValidRegs = kvm.SyncRegs
	return nil
}
