package hvt

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/kvm"
	"github.com/morgana-os/morgana/vdso"
)

// clock keeps the vDSO's data page: the map from the guest's TSC to time.
type clock struct {
	page []byte
	base vdso.Clock
}

// startClock calibrates the guest TSC against the host clocks and keeps the
// realtime offset fresh while the VM runs.
func (vm *VM) startClock(t *thread) error {
	khz, err := t.cpu.TSCKHz()
	if err != nil || khz == 0 {
		return fmt.Errorf("TSC frequency: %v", err)
	}
	page := vm.as.HostPage(vdsoVA)
	m := []kvm.MSR{{Index: kvm.MSRTSC}}
	var mono, real unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	if err := t.cpu.MSRs(m); err != nil {
		return fmt.Errorf("read guest TSC: %w", err)
	}
	unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	c := &clock{page: page, base: vdso.NewClock(khz, m[0].Data, mono.Nano(), real.Nano())}
	vdso.Store(page, c.base)
	vm.clock = c
	go c.follow(vm.done)
	return nil
}

// follow re-reads the host's realtime offset each second, so that a host
// clock step reaches the guest; the monotonic map never changes.
func (c *clock) follow(done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			var mono, real unix.Timespec
			unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
			unix.ClockGettime(unix.CLOCK_REALTIME, &real)
			next := c.base
			next.RealOffset = real.Nano() - mono.Nano()
			vdso.Store(c.page, next)
		}
	}
}
