package kvm

// Regs mirrors struct kvm_regs.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
}

// Segment mirrors struct kvm_segment.
type Segment struct {
	Base     uint64
	Limit    uint32
	Selector uint16
	Type     uint8
	Present  uint8
	DPL      uint8
	DB       uint8
	S        uint8
	L        uint8
	G        uint8
	AVL      uint8
	Unusable uint8
	_        uint8
}

// DTable mirrors struct kvm_dtable (GDTR, IDTR).
type DTable struct {
	Base  uint64
	Limit uint16
	_     [3]uint16
}

// Sregs mirrors struct kvm_sregs.
type Sregs struct {
	CS, DS, ES, FS, GS, SS Segment
	TR, LDT                Segment
	GDT, IDT               DTable
	CR0, CR2, CR3, CR4     uint64
	CR8                    uint64
	EFER                   uint64
	APICBase               uint64
	InterruptBitmap        [4]uint64
}

// CPUIDEntry mirrors struct kvm_cpuid_entry2.
type CPUIDEntry struct {
	Function uint32
	Index    uint32
	Flags    uint32
	EAX      uint32
	EBX      uint32
	ECX      uint32
	EDX      uint32
	_        [3]uint32
}

// MSR is one entry of struct kvm_msrs.
type MSR struct {
	Index uint32
	_     uint32
	Data  uint64
}

// XSAVE mirrors struct kvm_xsave: the guest's FPU/SSE/AVX state in the
// standard (non-compacted) XSAVE layout.
type XSAVE struct {
	Region [1024]uint32
}

// XCR is one extended control register (XCR0 is the only one).
type XCR struct {
	XCR   uint32
	_     uint32
	Value uint64
}

// xcrs mirrors struct kvm_xcrs.
type xcrs struct {
	NrXCRS uint32
	Flags  uint32
	XCRS   [16]XCR
	_      [16]uint64
}

// userspaceMemoryRegion mirrors struct kvm_userspace_memory_region.
type userspaceMemoryRegion struct {
	Slot          uint32
	Flags         uint32
	GuestPhysAddr uint64
	MemorySize    uint64
	UserspaceAddr uint64
}

// Run mirrors the fixed part of struct kvm_run, the page shared with the
// kernel that describes each exit.
type Run struct {
	RequestInterruptWindow uint8
	ImmediateExit          uint8
	_                      [6]uint8
	ExitReason             uint32
	ReadyForInjection      uint8
	IFFlag                 uint8
	Flags                  uint16
	CR8                    uint64
	APICBase               uint64
	exit                   [256]byte // union: io, mmio, internal, fail_entry, ...
	ValidRegs              uint64
	DirtyRegs              uint64
	// SyncRegs is struct kvm_sync_regs' first member; used when
	// KVM_CAP_SYNC_REGS is available to save two ioctls per exit.
	SyncRegs  Regs
	SyncSregs Sregs
}

// IO describes a KVM_EXIT_IO exit.
type IO struct {
	Direction  uint8
	Size       uint8
	Port       uint16
	Count      uint32
	DataOffset uint64
}

// MMIO describes a KVM_EXIT_MMIO exit.
type MMIO struct {
	PhysAddr uint64
	Data     [8]byte
	Len      uint32
	IsWrite  uint8
}

// InternalError describes a KVM_EXIT_INTERNAL_ERROR exit.
type InternalError struct {
	Suberror uint32
	NData    uint32
	Data     [16]uint64
}

// FailEntry describes a KVM_EXIT_FAIL_ENTRY exit.
type FailEntry struct {
	Reason uint64
	CPU    uint32
}
