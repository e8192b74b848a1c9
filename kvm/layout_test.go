package kvm

import (
	"testing"
	"unsafe"
)

// The sizes and offsets below are those of the kernel's uapi structs; a
// mismatch would silently corrupt every ioctl.
func TestLayout(t *testing.T) {
	var run Run
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"kvm_regs", unsafe.Sizeof(Regs{}), 144},
		{"kvm_segment", unsafe.Sizeof(Segment{}), 24},
		{"kvm_dtable", unsafe.Sizeof(DTable{}), 16},
		{"kvm_sregs", unsafe.Sizeof(Sregs{}), 312},
		{"kvm_cpuid_entry2", unsafe.Sizeof(CPUIDEntry{}), 40},
		{"kvm_msr_entry", unsafe.Sizeof(MSR{}), 16},
		{"kvm_xsave", unsafe.Sizeof(XSAVE{}), 4096},
		{"kvm_xcrs", unsafe.Sizeof(xcrs{}), 392},
		{"kvm_userspace_memory_region", unsafe.Sizeof(userspaceMemoryRegion{}), 32},
		{"kvm_run.exit_reason", unsafe.Offsetof(run.ExitReason), 8},
		{"kvm_run.union", unsafe.Offsetof(run.exit), 32},
		{"kvm_run.kvm_valid_regs", unsafe.Offsetof(run.ValidRegs), 288},
		{"kvm_run.kvm_dirty_regs", unsafe.Offsetof(run.DirtyRegs), 296},
		{"kvm_run.s.regs", unsafe.Offsetof(run.SyncRegs), 304},
		{"kvm_run.s.sregs", unsafe.Offsetof(run.SyncSregs), 448},
		{"kvm_run io", unsafe.Sizeof(IO{}), 16},
		{"KVM_GET_REGS", ioGetRegs, 0x8090AE81},
		{"KVM_SET_USER_MEMORY_REGION", ioSetUserMemoryRegion, 0x4020AE46},
		{"KVM_GET_SREGS", ioGetSregs, 0x8138AE83},
		{"KVM_GET_XSAVE", ioGetXSAVE, 0x9000AEA4},
		{"KVM_GET_SUPPORTED_CPUID", ioGetSupportedCPUID, 0xC008AE05},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}
