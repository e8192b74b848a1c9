package vdso

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSeqlock has a writer Store, as fast as it can, two Clocks that
// describe the same time line (TSCBase 2^Shift ticks apart, MonoBase Mult
// ns apart, so they agree to the nanosecond) while readers pinned to each
// CPU call the real code. Mixing fields of the two Clocks would be off by
// ±Mult ns (seconds), so every reader must see a monotonic sequence with
// small steps that stays on the host's clock.
func TestSeqlock(t *testing.T) {
	v := mapVDSO(t)
	b := calibrate(t)
	a := b
	a.TSCBase -= 1 << b.Shift
	a.MonoBase -= int64(b.Mult)
	if a.Monotonic(b.TSCBase+12345) != b.Monotonic(b.TSCBase+12345) {
		t.Fatal("the two clocks disagree")
	}
	Store(v.page, a)

	const run = 300 * time.Millisecond
	var stop atomic.Bool
	var stores atomic.Int64
	go func() {
		for n := int64(0); !stop.Load(); n++ {
			Store(v.page, [2]Clock{a, b}[n%2])
			stores.Store(n + 1)
		}
	}()

	ncpu := runtime.NumCPU()
	var wg sync.WaitGroup
	reads := make([]int, ncpu)
	start := hostNow(t, unix.CLOCK_MONOTONIC)
	for cpu := range ncpu {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				t.Errorf("pin to CPU %d: %v", cpu, err)
				return
			}
			prev := start - int64(tolerance)
			deadline := time.Now().Add(run)
			for time.Now().Before(deadline) {
				for range 1000 {
					got, _ := v.clockGettime(unix.CLOCK_MONOTONIC)
					if got < prev || got-prev > int64(100*time.Millisecond) {
						t.Errorf("CPU %d: read %d after %d (step %d ns)", cpu, got, prev, got-prev)
						return
					}
					prev = got
					reads[cpu]++
				}
			}
			lo := hostNow(t, unix.CLOCK_MONOTONIC)
			got, _ := v.clockGettime(unix.CLOCK_MONOTONIC)
			within(t, "final read", got, lo, hostNow(t, unix.CLOCK_MONOTONIC))
		})
	}
	wg.Wait()
	stop.Store(true)
	t.Logf("%d stores, reads per CPU %v", stores.Load(), reads)
	if stores.Load() < 1000 {
		t.Errorf("only %d stores: the test did not overlap writes and reads", stores.Load())
	}
}
