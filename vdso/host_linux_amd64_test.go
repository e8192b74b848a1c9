package vdso

import (
	"bytes"
	"debug/elf"
	"testing"
	"time"
	"unsafe"

	"github.com/morgana-os/morgana/vdso/internal/hostcall"
	"golang.org/x/sys/unix"
)

// hostVDSO is the data page and image mapped into the test process the
// way the monitor maps them into a guest: adjacent, image read+execute.
type hostVDSO struct {
	page []byte             // the data page, writable here for Store
	sym  map[string]uintptr // exported functions by name
}

func mapVDSO(t testing.TB) *hostVDSO {
	t.Helper()
	img := Image()
	mem, err := unix.Mmap(-1, 0, Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	copy(mem[DataSize:], img)
	if err := unix.Mprotect(mem[DataSize:], unix.PROT_READ|unix.PROT_EXEC); err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	v := &hostVDSO{page: mem[:DataSize], sym: map[string]uintptr{}}
	for _, s := range syms {
		v.sym[s.Name] = uintptr(unsafe.Pointer(&mem[DataSize])) + uintptr(s.Value)
	}
	return v
}

// clockGettime calls __vdso_clock_gettime and returns ts in ns and the
// return value.
func (v *hostVDSO) clockGettime(id int32) (int64, int) {
	ts := new(unix.Timespec)
	r := hostcall.CallIntPtr(v.sym["__vdso_clock_gettime"], uintptr(id), unsafe.Pointer(ts))
	return ts.Nano(), int(r)
}

func (v *hostVDSO) clockGetres(id int32, res *unix.Timespec) int {
	return int(hostcall.CallIntPtr(v.sym["__vdso_clock_getres"], uintptr(id), unsafe.Pointer(res)))
}

func (v *hostVDSO) gettimeofday(tv *unix.Timeval, tz *[2]int32) int {
	return int(hostcall.CallPtrPtr(v.sym["__vdso_gettimeofday"], unsafe.Pointer(tv), unsafe.Pointer(tz)))
}

func (v *hostVDSO) time(t *int64) int64 {
	return int64(hostcall.CallPtrPtr(v.sym["__vdso_time"], unsafe.Pointer(t), nil))
}

// hostNow reads a host clock with the real system call.
func hostNow(t testing.TB, id int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		t.Fatalf("clock_gettime(%d): %v", id, err)
	}
	return ts.Nano()
}

// calibrate measures the TSC against CLOCK_MONOTONIC over ~50ms and returns
// a Clock for the host: guest MONOTONIC/REALTIME then track the host's.
func calibrate(t testing.TB) Clock {
	t.Helper()
	// pair returns a TSC reading and the CLOCK_MONOTONIC value taken at
	// the same moment, from the tightest of several brackets.
	pair := func() (tsc uint64, mono int64) {
		best := ^uint64(0)
		for range 50 {
			t0 := hostcall.RDTSC()
			m := hostNow(t, unix.CLOCK_MONOTONIC)
			t1 := hostcall.RDTSC()
			if t1-t0 < best {
				best, tsc, mono = t1-t0, t0+(t1-t0)/2, m
			}
		}
		return tsc, mono
	}
	tsc0, mono0 := pair()
	time.Sleep(50 * time.Millisecond)
	tsc1, mono1 := pair()
	khz := (tsc1 - tsc0) * 1_000_000 / uint64(mono1-mono0)
	m0 := hostNow(t, unix.CLOCK_MONOTONIC)
	r := hostNow(t, unix.CLOCK_REALTIME)
	m1 := hostNow(t, unix.CLOCK_MONOTONIC)
	c := NewClock(khz, tsc1, mono1, 0)
	c.RealOffset = r - (m0+m1)/2
	t.Logf("TSC %d kHz: Mult %d Shift %d", khz, c.Mult, c.Shift)
	return c
}

// tolerance bounds the disagreement between the vDSO, extrapolating from
// the calibration, and the host clock (this machine may be a noisy VM).
const tolerance = 5 * time.Millisecond

// within checks lo-tolerance <= got <= hi+tolerance.
func within(t testing.TB, what string, got, lo, hi int64) {
	t.Helper()
	if got < lo-int64(tolerance) || got > hi+int64(tolerance) {
		t.Errorf("%s = %d, want within %v of [%d, %d] (off by %d/%d ns)", what, got, tolerance, lo, hi, got-lo, got-hi)
	}
}
