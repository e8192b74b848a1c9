package kvm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VCPU is one virtual CPU. Its methods must be called from one goroutine
// (the thread that runs it), except Kick-related fields of Run, which the
// kernel and other threads may touch by design.
type VCPU struct {
	ID     int
	fd     int
	Run    *Run
	runMem []byte
}

// Close releases the vCPU.
func (c *VCPU) Close() error {
	unix.Munmap(c.runMem)
	return unix.Close(c.fd)
}

// RunOnce enters the guest until the next exit. It returns unix.EINTR when
// a signal or immediate_exit interrupted it.
func (c *VCPU) RunOnce() error { return run(c.fd) }

// Regs reads the general-purpose registers.
func (c *VCPU) Regs() (Regs, error) {
	var r Regs
	err := ioctlPtr(c.fd, ioGetRegs, unsafe.Pointer(&r))
	return r, wrap("KVM_GET_REGS", err)
}

// SetRegs writes the general-purpose registers.
func (c *VCPU) SetRegs(r *Regs) error {
	return wrap("KVM_SET_REGS", ioctlPtr(c.fd, ioSetRegs, unsafe.Pointer(r)))
}

// Sregs reads the special registers.
func (c *VCPU) Sregs() (Sregs, error) {
	var s Sregs
	err := ioctlPtr(c.fd, ioGetSregs, unsafe.Pointer(&s))
	return s, wrap("KVM_GET_SREGS", err)
}

// SetSregs writes the special registers.
func (c *VCPU) SetSregs(s *Sregs) error {
	return wrap("KVM_SET_SREGS", ioctlPtr(c.fd, ioSetSregs, unsafe.Pointer(s)))
}

// SetCPUID sets the CPUID leaves the guest sees.
func (c *VCPU) SetCPUID(entries []CPUIDEntry) error {
	b, _ := cpuidBuf(len(entries))
	copy(cpuidEntries(b), entries)
	return wrap("KVM_SET_CPUID2", ioctlPtr(c.fd, ioSetCPUID2, unsafe.Pointer(&b[0])))
}

// SetMSRs writes model-specific registers.
func (c *VCPU) SetMSRs(msrs []MSR) error {
	b := msrBuf(msrs)
	n, err := ioctl(c.fd, ioSetMSRs, uintptr(unsafe.Pointer(&b[0])))
	if err == nil && int(n) != len(msrs) {
		return fmt.Errorf("KVM_SET_MSRS: MSR %#x refused", msrs[n].Index)
	}
	return wrap("KVM_SET_MSRS", err)
}

// MSRs reads the model-specific registers named by msrs[i].Index.
func (c *VCPU) MSRs(msrs []MSR) error {
	b := msrBuf(msrs)
	n, err := ioctl(c.fd, ioGetMSRs, uintptr(unsafe.Pointer(&b[0])))
	if err == nil && int(n) != len(msrs) {
		return fmt.Errorf("KVM_GET_MSRS: MSR %#x refused", msrs[n].Index)
	}
	copy(msrs, unsafe.Slice((*MSR)(unsafe.Pointer(&b[8])), len(msrs)))
	return wrap("KVM_GET_MSRS", err)
}

func msrBuf(msrs []MSR) []byte {
	b := make([]byte, 8+16*len(msrs))
	*(*uint32)(unsafe.Pointer(&b[0])) = uint32(len(msrs))
	copy(unsafe.Slice((*MSR)(unsafe.Pointer(&b[8])), len(msrs)), msrs)
	return b
}

// XSAVE reads the FPU/SSE/AVX state.
func (c *VCPU) XSAVE(x *XSAVE) error {
	return wrap("KVM_GET_XSAVE", ioctlPtr(c.fd, ioGetXSAVE, unsafe.Pointer(x)))
}

// SetXSAVE writes the FPU/SSE/AVX state.
func (c *VCPU) SetXSAVE(x *XSAVE) error {
	return wrap("KVM_SET_XSAVE", ioctlPtr(c.fd, ioSetXSAVE, unsafe.Pointer(x)))
}

// XCR0 reads extended control register 0.
func (c *VCPU) XCR0() (uint64, error) {
	var x xcrs
	if err := ioctlPtr(c.fd, ioGetXCRS, unsafe.Pointer(&x)); err != nil {
		return 0, wrap("KVM_GET_XCRS", err)
	}
	for _, r := range x.XCRS[:x.NrXCRS] {
		if r.XCR == 0 {
			return r.Value, nil
		}
	}
	return 0, fmt.Errorf("KVM_GET_XCRS: no XCR0")
}

// SetXCR0 writes extended control register 0 (the enabled XSAVE features).
func (c *VCPU) SetXCR0(v uint64) error {
	x := xcrs{NrXCRS: 1}
	x.XCRS[0] = XCR{XCR: 0, Value: v}
	return wrap("KVM_SET_XCRS", ioctlPtr(c.fd, ioSetXCRS, unsafe.Pointer(&x)))
}

// TSCKHz returns the guest's TSC frequency in kHz.
func (c *VCPU) TSCKHz() (uint64, error) {
	r, err := ioctl(c.fd, ioGetTSCKHz, 0)
	return uint64(r), wrap("KVM_GET_TSC_KHZ", err)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
