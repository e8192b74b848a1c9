package x86

import "encoding/binary"

// Segment selectors. They are Linux's (arch/x86/include/asm/segment.h): PVM
// accepts no others, and SYSCALL/SYSRET derive theirs from STAR.
const (
	KernelCS = 0x10
	KernelDS = 0x18
	User32CS = 0x23
	UserDS   = 0x2b
	UserCS   = 0x33
	TSSSel   = 0x40
)

// STAR holds the selector bases of SYSCALL (kernel CS, SS = CS+8) and
// SYSRET (user CS = base+16, SS = base+8).
const STAR = uint64(KernelCS)<<32 | uint64(User32CS&^3)<<48

// GDTEntries is the number of 8-byte slots in the GDT (the TSS takes two).
const GDTEntries = TSSSel/8 + 2

// Segment descriptors, flat, as Linux sets them up.
const (
	descKernel32Code = 0x00cf9b000000ffff
	descKernelCode   = 0x00af9b000000ffff
	descKernelData   = 0x00cf93000000ffff
	descUser32Code   = 0x00cffb000000ffff
	descUserData     = 0x00cff3000000ffff
	descUserCode     = 0x00affb000000ffff
)

// TSS layout (64-bit task-state segment, SDM vol. 3 §8.7).
const (
	tssRSP0     = 0x04
	tssIST1     = 0x24
	tssIOMapOff = 0x66
	tssSize     = 0x68
	// IOPorts is how many I/O ports the permission bitmap covers; ports
	// above it always fault in ring 3.
	IOPorts = 1024
	// TSSLimit is the TSS limit including the bitmap and its 0xff end byte.
	TSSLimit = tssSize + IOPorts/8
)

// PutGDT writes a GDT with Linux's descriptors and a 64-bit TSS descriptor
// for tssBase into b, which must hold GDTEntries*8 bytes.
func PutGDT(b []byte, tssBase uint64) {
	descs := []uint64{0, descKernel32Code, descKernelCode, descKernelData,
		descUser32Code, descUserData, descUserCode, 0}
	for i, d := range descs {
		binary.LittleEndian.PutUint64(b[i*8:], d)
	}
	lo, hi := tssDescriptor(tssBase, TSSLimit)
	binary.LittleEndian.PutUint64(b[TSSSel:], lo)
	binary.LittleEndian.PutUint64(b[TSSSel+8:], hi)
}

// tssDescriptor encodes a busy 64-bit TSS descriptor (type 0xB).
func tssDescriptor(base uint64, limit uint32) (lo, hi uint64) {
	lo = uint64(limit&0xffff) |
		(base&0xffffff)<<16 |
		uint64(0x8b)<<40 | // present, DPL 0, type 0xB
		uint64(limit>>16&0xf)<<48 |
		(base>>24&0xff)<<56
	return lo, base >> 32
}

// PutTSS writes a TSS into b (TSSLimit+1 bytes) whose ring-0 and IST1
// stacks are stackTop, and whose I/O bitmap lets ring 3 use only ports.
func PutTSS(b []byte, stackTop uint64, ports []uint16) {
	clear(b[:TSSLimit+1])
	binary.LittleEndian.PutUint64(b[tssRSP0:], stackTop)
	binary.LittleEndian.PutUint64(b[tssIST1:], stackTop)
	binary.LittleEndian.PutUint16(b[tssIOMapOff:], tssSize)
	bitmap := b[tssSize : tssSize+IOPorts/8]
	for i := range bitmap {
		bitmap[i] = 0xff
	}
	for _, p := range ports {
		if int(p) < IOPorts {
			bitmap[p/8] &^= 1 << (p % 8)
		}
	}
	b[TSSLimit] = 0xff
}
