package x86

import "encoding/binary"

// Vectors is the number of exception vectors the IDT covers; the guest
// runs with interrupts off, so only exceptions ever arrive.
const Vectors = 32

// Exception vectors.
const (
	VecDE = 0  // divide error
	VecDB = 1  // debug
	VecBP = 3  // breakpoint (int3)
	VecOF = 4  // overflow
	VecBR = 5  // bound range
	VecUD = 6  // invalid opcode
	VecNM = 7  // device not available
	VecDF = 8  // double fault
	VecTS = 10 // invalid TSS
	VecNP = 11 // segment not present
	VecSS = 12 // stack-segment fault
	VecGP = 13 // general protection
	VecPF = 14 // page fault
	VecMF = 16 // x87 floating point
	VecAC = 17 // alignment check
	VecMC = 18 // machine check
	VecXM = 19 // SIMD floating point
)

// HasErrorCode reports whether the CPU pushes an error code for vector v.
func HasErrorCode(v int) bool {
	switch v {
	case VecDF, VecTS, VecNP, VecSS, VecGP, VecPF, VecAC, 21, 29, 30:
		return true
	}
	return false
}

// IDTSize is the byte size of the IDT.
const IDTSize = Vectors * 16

// PutIDT writes interrupt gates for all vectors into b; vector v enters
// ring 0 at handler(v) on IST1. int3 and into may be raised from ring 3.
func PutIDT(b []byte, handler func(v int) uint64) {
	for v := 0; v < Vectors; v++ {
		h := handler(v)
		dpl := uint64(0)
		if v == VecBP || v == VecOF {
			dpl = 3
		}
		lo := h&0xffff |
			uint64(KernelCS)<<16 |
			uint64(1)<<32 | // IST1
			(0x8e|dpl<<5)<<40 | // present, interrupt gate
			(h>>16&0xffff)<<48
		binary.LittleEndian.PutUint64(b[v*16:], lo)
		binary.LittleEndian.PutUint64(b[v*16+8:], h>>32)
	}
}

// ExceptionName returns the mnemonic of an exception vector.
func ExceptionName(v int) string {
	names := [...]string{"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
		"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM device not available",
		"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
		"#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
		"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
		"#VE virtualization", "#CP control protection"}
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return "exception"
}
