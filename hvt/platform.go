package hvt

import (
	"os"

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
