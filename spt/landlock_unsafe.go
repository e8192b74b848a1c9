package spt

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock (linux/landlock.h) is the second layer: where the kernel has
// it, the image's process also loses every file-system right except reading
// and executing its own image (ImageFD, for the exec), TCP bind and connect
// (ABI 4), and signals to processes outside its domain (ABI 6), whatever the
// seccomp filter lets through.
const (
	sysLandlockCreateRuleset = 444
	sysLandlockAddRule       = 445
	sysLandlockRestrictSelf  = 446
	ruleTypePathBeneath      = 1
	landlockCreateVersion    = 1 << 0

	fsExecute  = 1 << 0
	fsReadFile = 1 << 2
	fsRightsV1 = 1<<13 - 1 // EXECUTE .. MAKE_SYM
	fsRefer    = 1 << 13   // ABI 2
	fsTruncate = 1 << 14   // ABI 3
	fsIoctlDev = 1 << 15   // ABI 5
	netTCP     = 1<<0 | 1<<1
	scopeAll   = 1<<0 | 1<<1 // abstract unix sockets, signals (ABI 6)
)

type landlockRuleset struct {
	fs, net, scoped uint64
}

// landlock restricts the calling process; it reports the ABI it used, 0
// when the kernel has none. no_new_privs must be set.
func landlock() (int, error) {
	v, _, e := unix.Syscall(sysLandlockCreateRuleset, 0, 0, landlockCreateVersion)
	if e != 0 {
		return 0, nil // not built in, or disabled: seccomp stands alone
	}
	abi := int(v)
	attr := landlockRuleset{fs: fsRightsV1}
	size := unsafe.Sizeof(attr.fs)
	if abi >= 2 {
		attr.fs |= fsRefer
	}
	if abi >= 3 {
		attr.fs |= fsTruncate
	}
	if abi >= 5 {
		attr.fs |= fsIoctlDev
	}
	if abi >= 4 {
		attr.net = netTCP
		size = unsafe.Offsetof(attr.scoped)
	}
	if abi >= 6 {
		attr.scoped = scopeAll
		size = unsafe.Sizeof(attr)
	}
	fd, _, e := unix.Syscall(sysLandlockCreateRuleset, uintptr(unsafe.Pointer(&attr)), size, 0)
	if e != 0 {
		return abi, fmt.Errorf("spt: landlock ruleset (ABI %d): %w", abi, e)
	}
	defer unix.Close(int(fd))
	// struct landlock_path_beneath_attr is packed: u64 access, s32 fd.
	var rule [12]byte
	*(*uint64)(unsafe.Pointer(&rule[0])) = fsExecute | fsReadFile
	*(*int32)(unsafe.Pointer(&rule[8])) = ImageFD
	if _, _, e := unix.Syscall6(sysLandlockAddRule, fd, ruleTypePathBeneath, uintptr(unsafe.Pointer(&rule[0])), 0, 0, 0); e != 0 {
		return abi, fmt.Errorf("spt: landlock rule for the image: %w", e)
	}
	if _, _, e := unix.Syscall(sysLandlockRestrictSelf, fd, 0, 0); e != 0 {
		return abi, fmt.Errorf("spt: landlock: %w", e)
	}
	return abi, nil
}
