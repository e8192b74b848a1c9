// Package hvt is morgana's KVM monitor: it runs an unmodified static Go
// program for linux/amd64 in a virtual machine with no guest kernel.
//
// The vCPUs start in 64-bit mode, in ring 3, at the image's entry point.
// Everything a kernel would do is done here, on the host, behind one narrow
// door: the guest's SYSCALL lands on a stub that rings a doorbell port, the
// vCPU exits to the monitor, and the monitor serves the call from the guest
// ABI table (package abi). Exceptions take the same door through ring-0
// stubs and come back as Linux signal frames, so a nil dereference is an
// ordinary Go panic. Time needs no door at all: a vDSO reads the TSC.
//
// Each guest thread is a vCPU, and each vCPU is a goroutine locked to a
// host thread. Blocking calls (futex, epoll_pwait, nanosleep) block that
// goroutine; signals for a thread kick its vCPU out of the guest.
//
// The code that differs between hardware virtualization (VT-x, AMD-V) and
// PVM is small and named: see platform.go.
package hvt
