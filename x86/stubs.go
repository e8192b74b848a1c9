package x86

// The guest reaches the monitor through port I/O: an `out` to a doorbell
// port exits to the monitor at the cost of one VM exit, and the monitor
// reads the guest's registers. The stubs below are the only code the
// monitor puts in the guest besides the vDSO.

// Doorbell ports.
const (
	// SyscallPort is rung by the syscall stub; RAX holds the call number.
	SyscallPort = 0xE0
	// ExceptionPortBase+v is rung by the ring-0 handler of vector v.
	ExceptionPortBase = 0xC0
)

// SyscallStubUser is the syscall entry for hosts where SYSCALL from ring 3
// stays in ring 3 (PVM): LSTAR points here, on a user page. The monitor
// answers through RAX, and the stub returns to the instruction after
// `syscall`, whose address the CPU left in RCX.
var SyscallStubUser = []byte{
	0xe6, SyscallPort, // out %al, $SyscallPort
	0xff, 0xe1, //        jmp *%rcx
}

// SyscallStubKernel is the syscall entry for hardware virtualization
// (VT-x, AMD-V): SYSCALL enters ring 0 here, on a supervisor page, and
// SYSRETQ goes back to ring 3 at RCX with RFLAGS from R11.
var SyscallStubKernel = []byte{
	0xe6, SyscallPort, // out %al, $SyscallPort
	0x48, 0x0f, 0x07, //  sysretq
}

// ExceptionStubSize is the spacing of the per-vector exception stubs.
const ExceptionStubSize = 16

// ExceptionStub returns the ring-0 handler of vector v. The CPU has pushed
// the interrupted context on the IST1 stack; the stub makes the frame
// uniform (an error code is always present), rings the doorbell, and
// resumes whatever context the monitor left in the frame.
func ExceptionStub(v int) []byte {
	var b []byte
	if !HasErrorCode(v) {
		b = append(b, 0x6a, 0x00) // push $0
	}
	b = append(b,
		0xe6, byte(ExceptionPortBase+v), // out %al, $port
		0x48, 0x83, 0xc4, 0x08, //          add $8, %rsp
		0x48, 0xcf, //                      iretq
	)
	return b
}

// ExceptionFrame is the stack frame ring 0 sees at the doorbell: the error
// code followed by the interrupt frame the CPU pushed.
type ExceptionFrame struct {
	ErrorCode uint64
	RIP       uint64
	CS        uint64
	RFLAGS    uint64
	RSP       uint64
	SS        uint64
}

// ExceptionFrameSize is the byte size of ExceptionFrame.
const ExceptionFrameSize = 48
