// Package x86 builds the few x86-64 structures a guest needs to run in long
// mode with no operating system: the GDT, the IDT, the TSS with its I/O
// permission bitmap, the page-table entry format, and the tiny stubs of
// machine code through which the guest reaches the monitor.
//
// Everything here is data: byte layouts fixed by the architecture (Intel SDM
// vol. 3, chapters 3–7) and by the selector values Linux uses, which PVM
// insists on. The monitor decides where the structures live.
package x86
