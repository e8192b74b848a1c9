package vdso

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/morgana-os/morgana/vdso/internal/hostcall"

	"golang.org/x/sys/unix"
)

// TestSeqlock has a writer Store, as fast as it can, two Clocks that
// describe the same time line (TSCBase 2^Shift ticks apart, MonoBase Mult
// ns apart, so they agree to the nanosecond) while readers pinned to each
// CPU call the real code. A read mixing fields of the two Clocks would be
// off by ±Mult ns (seconds); every read must instead lie exactly between
// the model's values at TSC readings taken around the call, and never go
// backwards.
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

	// Readers spin inside foreign code while the page is odd, where the Go
	// scheduler cannot stop them. In the monitor that is harmless (vCPUs
	// run in KVM_RUN, outside the Go scheduler), but here a stop-the-world
	// that caught the writer mid-Store would wait for the readers forever.
	// So: no GC (and no allocation by readers) and a spare P for the writer.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	ncpu := runtime.NumCPU()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(ncpu + 2))

	const run = 300 * time.Millisecond
	var stop atomic.Bool
	var stores atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for n := int64(0); !stop.Load(); n++ {
			Store(v.page, [2]Clock{a, b}[n%2])
			stores.Store(n + 1)
		}
	}()

	var wg sync.WaitGroup
	reads := make([]int, ncpu)
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
			prev := int64(math.MinInt64)
			ts := new(unix.Timespec)
			fn := v.sym["__vdso_clock_gettime"]
			deadline := time.Now().Add(run)
			for time.Now().Before(deadline) {
				for range 1000 {
					t0 := hostcall.RDTSC()
					hostcall.CallIntPtr(fn, unix.CLOCK_MONOTONIC, unsafe.Pointer(ts))
					t1 := hostcall.RDTSC()
					got, lo, hi := ts.Nano(), b.Monotonic(t0), b.Monotonic(t1)
					if got < prev || got < lo || got > hi {
						t.Errorf("CPU %d: read %d after %d, want within [%d, %d]", cpu, got, prev, lo, hi)
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
	<-writerDone // before the page is unmapped
	t.Logf("%d stores, reads per CPU %v", stores.Load(), reads)
	if stores.Load() < 1000 {
		t.Errorf("only %d stores: the test did not overlap writes and reads", stores.Load())
	}
}
