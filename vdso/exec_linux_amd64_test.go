package vdso

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These tests run the guest machine code on the host CPU.

func TestClockGettimeTracksHost(t *testing.T) {
	v := mapVDSO(t)
	Store(v.page, calibrate(t))
	for _, tc := range []struct {
		name string
		id   int32
		host int32 // the host clock it must match
	}{
		{"REALTIME", unix.CLOCK_REALTIME, unix.CLOCK_REALTIME},
		{"MONOTONIC", unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC},
		{"MONOTONIC_RAW", unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_MONOTONIC},
		{"REALTIME_COARSE", unix.CLOCK_REALTIME_COARSE, unix.CLOCK_REALTIME},
		{"MONOTONIC_COARSE", unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC},
		{"BOOTTIME", unix.CLOCK_BOOTTIME, unix.CLOCK_MONOTONIC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var worst int64 // furthest outside the host bracket
			for range 100 {
				lo := hostNow(t, tc.host)
				got, r := v.clockGettime(tc.id)
				hi := hostNow(t, tc.host)
				if r != 0 {
					t.Fatalf("returned %d", r)
				}
				within(t, "clock_gettime", got, lo, hi)
				worst = max(worst, lo-got, got-hi)
			}
			t.Logf("worst excursion outside the host's bracket: %d ns", worst)
		})
	}
}

func TestGettimeofdayAndTime(t *testing.T) {
	v := mapVDSO(t)
	Store(v.page, calibrate(t))

	var tv unix.Timeval
	tz := [2]int32{-1, -1}
	lo := hostNow(t, unix.CLOCK_REALTIME)
	r := v.gettimeofday(&tv, &tz)
	hi := hostNow(t, unix.CLOCK_REALTIME)
	if r != 0 || tz != [2]int32{} {
		t.Errorf("gettimeofday = %d, tz %v; want 0, zeroed tz", r, tz)
	}
	if tv.Usec < 0 || tv.Usec >= 1e6 {
		t.Errorf("tv_usec %d out of range", tv.Usec)
	}
	within(t, "gettimeofday", tv.Nano(), lo, hi)
	if r := v.gettimeofday(nil, &tz); r != 0 {
		t.Errorf("gettimeofday(nil, tz) = %d", r)
	}
	if r := v.gettimeofday(&tv, nil); r != 0 {
		t.Errorf("gettimeofday(tv, nil) = %d", r)
	}

	var sec int64
	lo = hostNow(t, unix.CLOCK_REALTIME)
	got := v.time(&sec)
	hi = hostNow(t, unix.CLOCK_REALTIME)
	if got != sec {
		t.Errorf("time returned %d, stored %d", got, sec)
	}
	within(t, "time", got*1e9, lo/1e9*1e9-1e9, hi)
	within(t, "time(nil)", v.time(nil)*1e9, lo/1e9*1e9-1e9, hi)
}

// Clock ids the data page does not serve reach the kernel unchanged.
func TestUnservedClocksUseSyscall(t *testing.T) {
	v := mapVDSO(t)
	Store(v.page, calibrate(t))
	for _, tc := range []struct {
		name string
		id   int32
	}{
		{"PROCESS_CPUTIME_ID", unix.CLOCK_PROCESS_CPUTIME_ID},
		{"REALTIME_ALARM", unix.CLOCK_REALTIME_ALARM},
		{"TAI", unix.CLOCK_TAI},
		{"own process CPU clock", -6}, // MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED)
		{"invalid", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want unix.Timespec
			_, _, errno := unix.Syscall(unix.SYS_CLOCK_GETTIME, uintptr(tc.id), uintptr(unsafe.Pointer(&want)), 0)
			got, r := v.clockGettime(tc.id)
			if errno != 0 {
				if r != -int(errno) {
					t.Errorf("returned %d, want -%d (%v)", r, int(errno), errno)
				}
				return
			}
			hi := hostNow(t, tc.id)
			if r != 0 || got < want.Nano() || got > hi {
				t.Errorf("returned %d, %d ns; want 0, within [%d, %d]", r, got, want.Nano(), hi)
			}
		})
	}
}

func TestClockGetres(t *testing.T) {
	v := mapVDSO(t)
	for _, id := range []int32{0, 1, 4, 5, 6, 7} {
		res := unix.Timespec{Sec: 7, Nsec: 7}
		if r := v.clockGetres(id, &res); r != 0 || res != (unix.Timespec{Nsec: 1}) {
			t.Errorf("clock_getres(%d) = %d, %+v; want 0, 1ns", id, r, res)
		}
		if r := v.clockGetres(id, nil); r != 0 {
			t.Errorf("clock_getres(%d, nil) = %d", id, r)
		}
	}
	var res, want unix.Timespec
	if err := unix.ClockGetres(unix.CLOCK_PROCESS_CPUTIME_ID, &want); err != nil {
		t.Fatal(err)
	}
	if r := v.clockGetres(unix.CLOCK_PROCESS_CPUTIME_ID, &res); r != 0 || res != want {
		t.Errorf("clock_getres(PROCESS_CPUTIME_ID) = %d, %+v; want syscall's %+v", r, res, want)
	}
	if r := v.clockGetres(1000, &res); r != -int(unix.EINVAL) {
		t.Errorf("clock_getres(1000) = %d, want -EINVAL", r)
	}
}

// Before the monitor's first Store the page is all zero: every call must
// take the system call instead of spinning or dividing garbage.
func TestUnsetPageUsesSyscall(t *testing.T) {
	v := mapVDSO(t)
	for _, id := range []int32{unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME} {
		lo := hostNow(t, id)
		got, r := v.clockGettime(id)
		hi := hostNow(t, id)
		if r != 0 || got < lo || got > hi {
			t.Errorf("clock %d: returned %d, %d; want 0, within [%d, %d]", id, r, got, lo, hi)
		}
	}
	var tv unix.Timeval
	lo := hostNow(t, unix.CLOCK_REALTIME) / 1000 * 1000
	if r := v.gettimeofday(&tv, nil); r != 0 || tv.Nano() < lo || tv.Nano() > hostNow(t, unix.CLOCK_REALTIME) {
		t.Errorf("gettimeofday = %d, %+v", r, tv)
	}
	// time(2) reads the kernel's coarse clock, which may still be in the
	// previous second when the fine one has moved on.
	if got := v.time(nil); got < lo/1e9-1 || got > hostNow(t, unix.CLOCK_REALTIME)/1e9 {
		t.Errorf("time = %d", got)
	}
}
