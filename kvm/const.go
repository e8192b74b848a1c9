package kvm

import "strconv"

// Constants mirrored from linux/kvm.h and arch/x86/include/uapi/asm/kvm.h.

const kvmio = 0xAE

const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | kvmio<<8 | nr }

var (
	ioGetAPIVersion       = ioc(iocNone, 0x00, 0)
	ioCreateVM            = ioc(iocNone, 0x01, 0)
	ioCheckExtension      = ioc(iocNone, 0x03, 0)
	ioGetVCPUMmapSize     = ioc(iocNone, 0x04, 0)
	ioGetSupportedCPUID   = ioc(iocRead|iocWrite, 0x05, 8)
	ioCreateVCPU          = ioc(iocNone, 0x41, 0)
	ioSetUserMemoryRegion = ioc(iocWrite, 0x46, 32)
	ioRun                 = ioc(iocNone, 0x80, 0)
	ioGetRegs             = ioc(iocRead, 0x81, 144)
	ioSetRegs             = ioc(iocWrite, 0x82, 144)
	ioGetSregs            = ioc(iocRead, 0x83, 312)
	ioSetSregs            = ioc(iocWrite, 0x84, 312)
	ioGetMSRs             = ioc(iocRead|iocWrite, 0x88, 8)
	ioSetMSRs             = ioc(iocWrite, 0x89, 8)
	ioSetCPUID2           = ioc(iocWrite, 0x90, 8)
	ioGetTSCKHz           = ioc(iocNone, 0xa3, 0)
	ioGetXSAVE            = ioc(iocRead, 0xa4, 4096)
	ioSetXSAVE            = ioc(iocWrite, 0xa5, 4096)
	ioGetXCRS             = ioc(iocRead, 0xa6, 392)
	ioSetXCRS             = ioc(iocWrite, 0xa7, 392)
)

// APIVersion is the only KVM API version there has ever been.
const APIVersion = 12

// Capabilities (KVM_CAP_*).
const (
	CapUserMemory    = 3
	CapNrVCPUs       = 9
	CapXSAVE         = 55
	CapXCRS          = 56
	CapGetTSCKHz     = 61
	CapMaxVCPUs      = 66
	CapSyncRegs      = 74
	CapImmediateExit = 136
)

// Exit reasons (KVM_EXIT_*).
const (
	ExitUnknown       = 0
	ExitException     = 1
	ExitIO            = 2
	ExitHypercall     = 3
	ExitDebug         = 4
	ExitHLT           = 5
	ExitMMIO          = 6
	ExitShutdown      = 8
	ExitFailEntry     = 9
	ExitIntr          = 10
	ExitInternalError = 17
	ExitSystemEvent   = 24
)

// ExitIO directions.
const (
	IOIn  = 0
	IOOut = 1
)

// Sync-regs selectors (KVM_SYNC_X86_*).
const (
	SyncRegs  = 1 << 0
	SyncSregs = 1 << 1
)

// Model-specific registers used by the monitor.
const (
	MSRTSC          = 0x10
	MSRPAT          = 0x277
	MSREFER         = 0xC0000080
	MSRSTAR         = 0xC0000081
	MSRLSTAR        = 0xC0000082
	MSRCSTAR        = 0xC0000083
	MSRSyscallMask  = 0xC0000084
	MSRFSBase       = 0xC0000100
	MSRGSBase       = 0xC0000101
	MSRKernelGSBase = 0xC0000102
)

// ExitName returns a readable name for a KVM exit reason.
func ExitName(reason uint32) string {
	switch reason {
	case ExitUnknown:
		return "KVM_EXIT_UNKNOWN"
	case ExitException:
		return "KVM_EXIT_EXCEPTION"
	case ExitIO:
		return "KVM_EXIT_IO"
	case ExitHypercall:
		return "KVM_EXIT_HYPERCALL"
	case ExitDebug:
		return "KVM_EXIT_DEBUG"
	case ExitHLT:
		return "KVM_EXIT_HLT"
	case ExitMMIO:
		return "KVM_EXIT_MMIO"
	case ExitShutdown:
		return "KVM_EXIT_SHUTDOWN (triple fault)"
	case ExitFailEntry:
		return "KVM_EXIT_FAIL_ENTRY"
	case ExitIntr:
		return "KVM_EXIT_INTR"
	case ExitInternalError:
		return "KVM_EXIT_INTERNAL_ERROR"
	case ExitSystemEvent:
		return "KVM_EXIT_SYSTEM_EVENT"
	}
	return "KVM_EXIT_" + strconv.FormatUint(uint64(reason), 10)
}
