package vdso

import (
	"math"
	"testing"
	"unsafe"

	"github.com/morgana-os/morgana/vdso/internal/hostcall"
	"golang.org/x/sys/unix"
)

// TestArithmeticMatchesModel runs the machine code on synthetic clocks and
// checks it against Clock.Monotonic/Realtime evaluated at TSC readings
// taken just before and just after the call.
func TestArithmeticMatchesModel(t *testing.T) {
	v := mapVDSO(t)
	now := hostcall.RDTSC()
	for _, tc := range []struct {
		name string
		c    Clock
	}{
		{"1ns per tick", Clock{TSCBase: now - 1e9, MonoBase: 5e9, Mult: 1, Shift: 0, RealOffset: 1.7e18}},
		{"3GHz", NewClock(3_000_000, now-3e9, 1e9, 1.7e18)},
		{"128-bit product", Clock{TSCBase: 0, MonoBase: 0, Mult: math.MaxUint32, Shift: 32, RealOffset: 0}},
		{"shift 63", Clock{TSCBase: 0, MonoBase: 42, Mult: math.MaxUint32, Shift: 63}},
		{"TSC behind base", Clock{TSCBase: now + 1e15, MonoBase: 123456789, Mult: 1 << 31, Shift: 31, RealOffset: 1}},
		{"200 years up", Clock{TSCBase: now - 1e6, MonoBase: 200 * 365 * 86400 * 1e9, Mult: 1 << 20, Shift: 20}},
		{"before 1970", Clock{TSCBase: now, MonoBase: 1e9, Mult: 1, Shift: 2, RealOffset: -2.5e9}},
		{"far before 1970", NewClock(2_000_000, now, 10e9, -1e18)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Store(v.page, tc.c)
			for _, id := range []int32{unix.CLOCK_MONOTONIC, unix.CLOCK_REALTIME} {
				model := tc.c.Monotonic
				if id == unix.CLOCK_REALTIME {
					model = tc.c.Realtime
				}
				ts := new(unix.Timespec)
				t0 := hostcall.RDTSC()
				r := hostcall.CallIntPtr(v.sym["__vdso_clock_gettime"], uintptr(id), unsafe.Pointer(ts))
				t1 := hostcall.RDTSC()
				lo, hi := model(t0), model(t1)
				if r != 0 || ts.Nsec < 0 || ts.Nsec >= 1e9 || ts.Nano() < lo || ts.Nano() > hi {
					t.Errorf("clock %d: returned %d, %+v; want 0, normalized, within [%d, %d]", id, r, *ts, lo, hi)
				}
			}

			tv := new(unix.Timeval)
			t0 := hostcall.RDTSC()
			v.gettimeofday(tv, nil)
			t1 := hostcall.RDTSC()
			lo, hi := floorDiv(tc.c.Realtime(t0), 1000), floorDiv(tc.c.Realtime(t1), 1000)
			if us := tv.Sec*1e6 + tv.Usec; tv.Usec < 0 || tv.Usec >= 1e6 || us < lo || us > hi {
				t.Errorf("gettimeofday = %+v; want normalized, within [%d, %d] µs", *tv, lo, hi)
			}

			t0 = hostcall.RDTSC()
			sec := v.time(nil)
			t1 = hostcall.RDTSC()
			if lo, hi := floorDiv(tc.c.Realtime(t0), 1e9), floorDiv(tc.c.Realtime(t1), 1e9); sec < lo || sec > hi {
				t.Errorf("time = %d; want within [%d, %d]", sec, lo, hi)
			}
		})
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
