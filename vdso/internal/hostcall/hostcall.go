//go:build amd64

// Package hostcall lets the vdso tests run the guest machine code on the
// host: it reads the TSC and calls SysV ABI (C) functions by address.
package hostcall

import "unsafe"

// RDTSC returns the time-stamp counter, read after an LFENCE as the vDSO
// code does.
func RDTSC() uint64

// CallIntPtr calls the SysV ABI function fn(a0 /* rdi */, a1 /* rsi */)
// on the current goroutine stack and returns rax. The callee may use only
// a few bytes of stack and must not block.
func CallIntPtr(fn, a0 uintptr, a1 unsafe.Pointer) uintptr

// CallPtrPtr is CallIntPtr with a pointer first argument.
func CallPtrPtr(fn uintptr, a0, a1 unsafe.Pointer) uintptr
