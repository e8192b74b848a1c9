// Package vdso builds the virtual dynamic shared object that the monitor
// maps into every guest.
//
// Go programs read the clock constantly (time.Now, timers, the scheduler).
// Without a vDSO each reading is a clock_gettime system call, which in a
// morgana guest is a VM exit costing 10–40 µs. With one, the Go runtime
// finds __vdso_clock_gettime through the auxiliary vector
// (AT_SYSINFO_EHDR) and the reading becomes rdtsc plus a little
// arithmetic on a page the monitor keeps up to date — no exit at all.
//
// The image is a tiny ELF shared object, generated here byte by byte with
// hand-encoded x86-64 code (no assembler or linker at build time). It
// exports, at version LINUX_2.6, __vdso_clock_gettime,
// __vdso_gettimeofday, __vdso_time and __vdso_clock_getres (plus
// unprefixed weak aliases). Clocks it cannot serve, and every call made
// before the monitor's first Store, fall back to the real system call.
//
// Guest layout, at a page-aligned guest virtual address base:
//
//	[base, base+DataSize)        data page: read-only to the guest, written by the monitor with Store
//	[base+DataSize, base+Size()) ELF image: read+execute; AT_SYSINFO_EHDR = base+DataSize
//
// The code is position independent: it finds the data page RIP-relative,
// immediately before the image.
package vdso

import "sync"

// DataSize is the size of the data page preceding the image.
const DataSize = 4096

var image = sync.OnceValue(buildImage)

// Image returns a copy of the ELF image. Its length is a multiple of 4096.
func Image() []byte {
	return append([]byte(nil), image()...)
}

// Size returns the number of bytes the monitor maps: DataSize plus the
// image.
func Size() int {
	return DataSize + len(image())
}
