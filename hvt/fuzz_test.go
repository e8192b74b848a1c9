package hvt

import (
	"testing"

	"github.com/morgana-os/morgana/abi"
)

// needsCPU are the calls whose handlers need a real vCPU or VM (ioctls for
// MSRs or FPU state, or a new vCPU), which the fake VM does not have.
var needsCPU = map[int]bool{abi.SysRtSigreturn: true, abi.SysClone: true, abi.SysArchPrctl: true}

// FuzzSyscall throws arbitrary arguments at every handler of the guest ABI:
// whatever a guest passes, the monitor must answer, never panic. The VM is
// stopped first, so calls that would block return at once.
func FuzzSyscall(f *testing.F) {
	f.Add(uint16(abi.SysMmap), uint64(0), uint64(8192), uint64(3), uint64(0x22), uint64(0), uint64(0))
	f.Add(uint16(abi.SysFutex), uint64(0x7ff000000000), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SysWrite), uint64(1), uint64(0xffffffffffff0000), uint64(1<<40), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SysRtSigaction), uint64(11), uint64(0x10000), uint64(0x10000), uint64(8), uint64(0), uint64(0))
	f.Add(uint16(abi.SysEpollCtl), uint64(3), uint64(1), uint64(3), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SysMprotect), uint64(0x7fff_ffff_e000), uint64(4096), uint64(7), uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, nr uint16, a0, a1, a2, a3, a4, a5 uint64) {
		h := handlers[int(nr)]
		if h == nil || needsCPU[int(nr)] {
			return
		}
		vm := newFakeVM(t)
		vm.stop(0)
		th := vm.fakeThread(1)
		// Give pointers a chance to land in mapped memory.
		base := scratch(t, vm, 1<<16)
		for _, p := range []*uint64{&a0, &a1, &a2, &a3} {
			if *p&1 == 1 {
				*p = base + *p%(1<<16)
			}
		}
		call(th, h, a0, a1, a2, a3, a4, a5)
	})
}

func TestNeedsCPUInABI(t *testing.T) {
	for nr := range needsCPU {
		if _, ok := abi.Lookup(nr); !ok {
			t.Errorf("%d is not in the ABI table", nr)
		}
	}
}
