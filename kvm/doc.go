// Package kvm is a thin, typed layer over the Linux KVM API (/dev/kvm).
//
// It mirrors the kernel's uapi headers (linux/kvm.h, asm/kvm.h) and nothing
// more: no policy, no guest layout. The monitor in package hvt decides what
// the virtual machine looks like; this package only speaks the ioctls. Keeping
// the raw interface apart makes the unsafe code small and easy to audit: every
// pointer handed to the kernel is built in a *_unsafe.go file here.
package kvm
