package hvt

import (
	"os"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/kvm"
	"github.com/morgana-os/morgana/x86"
)

// Platform is the kind of KVM the host offers.
type Platform int

const (
	// VTx is Intel VT-x, AMD is AMD-V: hardware virtualization, where
	// guest ring 0 runs natively and SYSCALL enters it.
	VTx Platform = iota
	AMD
	// PVM is the software hypervisor of the kvm_pvm module: guest ring 0
	// is emulated, and SYSCALL from ring 3 stays in ring 3.
	PVM
)

func (p Platform) String() string {
	switch p {
	case VTx:
		return "VT-x"
	case AMD:
		return "AMD-V"
	case PVM:
		return "PVM"
	}
	return "unknown"
}

// detectPlatform finds which vendor module serves /dev/kvm.
func detectPlatform() Platform {
	exists := func(m string) bool {
		_, err := os.Stat("/sys/module/" + m)
		return err == nil
	}
	switch {
	case exists("kvm_intel"):
		return VTx
	case exists("kvm_amd"):
		return AMD
	case exists("kvm_pvm"):
		return PVM
	}
	return VTx
}

// syscallEntry returns where LSTAR points and the syscall mask to use.
//
// On PVM, SYSCALL from ring 3 jumps to LSTAR without leaving ring 3, so the
// stub must be on a user page and return with an ordinary jump; flags are
// left alone (mask 0). With hardware virtualization SYSCALL enters ring 0,
// and the stub returns with SYSRETQ, which restores RFLAGS from R11.
func (p Platform) syscallEntry() (lstar, mask uint64) {
	if p == PVM {
		return userStubVA, 0
	}
	return kernelStubVA + kernelSyscallOff, 0x47700 // TF DF IF IOPL NT AC, as Linux
}

// doorbellPorts are the ports ring 3 may use (the TSS I/O bitmap).
func (p Platform) doorbellPorts() []uint16 {
	if p == PVM {
		return []uint16{x86.SyscallPort}
	}
	return nil
}

// sigTableProt is the guest's access to the page of its signal actions
// (sigTable). On PVM the syscall stub that sets them runs in ring 3, so the
// page is user-writable. That is safe: it holds only the guest's own
// actions, which rt_sigaction lets the guest set to anything anyway, and
// the monitor checks what it reads there and never waits on the guest for
// long. With hardware virtualization the monitor serves every
// rt_sigaction, and the guest may only read the page.
func (p Platform) sigTableProt() guestmem.Prot {
	if p == PVM {
		return guestmem.ProtRead | guestmem.ProtWrite
	}
	return guestmem.ProtRead
}

// leaveStub puts a vCPU that stopped in the syscall stub back in ring 3,
// for a return that rewrites every register (rt_sigreturn), which the
// stub's own return through RCX and R11 cannot do. On PVM the stub runs in
// ring 3 already (and PVM refuses privilege changes through
// KVM_SET_SREGS); with hardware virtualization it runs in ring 0, so the
// code and stack segments are set to the user's.
func (p Platform) leaveStub(cpu *kvm.VCPU) error {
	if p == PVM {
		return nil
	}
	s, err := cpu.Sregs()
	if err != nil {
		return err
	}
	s.CS, s.SS = userCode, userData
	return cpu.SetSregs(&s)
}

// The flat 64-bit user code and data segments, as Linux's GDT has them.
var (
	userCode = kvm.Segment{Limit: 0xffffffff, Selector: x86.UserCS, Type: 11, Present: 1, DPL: 3, S: 1, L: 1, G: 1}
	userData = kvm.Segment{Limit: 0xffffffff, Selector: x86.UserDS, Type: 3, Present: 1, DPL: 3, S: 1, DB: 1, G: 1}
)
