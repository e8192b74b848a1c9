package hvt

import "github.com/morgana-os/morgana/guestmem"

// The guest's virtual address layout. The user half holds the image, the
// heap and the monitor's few user pages; the top of the kernel half holds
// the descriptor tables, the ring-0 stubs and one IST stack per vCPU, all
// supervisor-only.
const (
	// userStubVA is the user page holding the PVM syscall stub.
	userStubVA = 0x7fff_ffff_e000
	// sigtabVA is the page of the signal actions (sigTable), which the PVM
	// syscall stub reads and sets for rt_sigaction (x86.SigactionStub).
	sigtabVA = 0x7fff_ffff_c000
	// vdsoVA is the vDSO's data page, followed by its ELF image.
	vdsoVA = 0x7fff_fffc_0000
	// stackTop is the top of the initial thread's stack.
	stackTop  = 0x7fff_fff0_0000
	stackSize = 1 << 20
	// maxArgBytes bounds argv and the environment, as ARG_MAX does.
	maxArgBytes = 256 << 10
	// mmapTop is where mmaps without a usable hint are placed, top-down.
	mmapTop = 0x7ff0_0000_0000

	kernelBase = 0xffff_ff80_0000_0000
	idtVA      = kernelBase
	// kernelStubVA holds the exception stubs, and at kernelSyscallOff the
	// syscall stub for hardware virtualization.
	kernelStubVA     = kernelBase + 0x1000
	kernelSyscallOff = 0x800
	// cpuBase + id*cpuStride holds vCPU id's GDT and TSS page, then its
	// IST stack.
	cpuBase      = kernelBase + 0x10_0000
	cpuStride    = 0x1_0000
	cpuTSSOff    = 0x100
	istPages     = 2
	istStackOff  = 0x1000
	istStackSize = istPages * guestmem.PageSize
)

func cpuPageVA(id int) uint64 { return cpuBase + uint64(id)*cpuStride }
func istTop(id int) uint64    { return cpuPageVA(id) + istStackOff + istStackSize }

// inStub reports whether rip is in code of the monitor's (the stubs), where
// a signal must not be delivered.
func inStub(rip uint64) bool {
	return rip >= kernelBase || rip&^0xfff == userStubVA
}
