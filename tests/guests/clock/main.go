// Command clock checks the guest's clocks: it prints time.Now() as Unix nanoseconds (the test
// compares it with the host's clock), checks the monotonic clock never goes back, and that the
// wall clock read through the vDSO (time.Now) agrees with the one read by a real system call
// (clock_gettime).
package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

const clockRealtime = 0 // CLOCK_REALTIME, linux/time.h

func main() {
	now := time.Now()
	fmt.Printf("now_unix_nano: %d\n", now.UnixNano())

	// A raw clock_gettime system call, bypassing the vDSO that time.Now uses.
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockRealtime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		check.Failf("clock_gettime(CLOCK_REALTIME): %v", errno)
	} else {
		diff := time.Unix(ts.Sec, ts.Nsec).Sub(now)
		check.That(diff > -time.Second && diff < time.Second, "the clock_gettime system call agrees with time.Now (difference %v)", diff)
	}

	var back int
	prev := time.Now()
	const reads = 100000
	for range reads {
		t := time.Now()
		if t.Sub(prev) < 0 {
			back++
		}
		prev = t
	}
	check.That(back == 0, "the monotonic clock went back %d times in %d reads", back, reads)

	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	slept := time.Since(start)
	check.That(slept >= 10*time.Millisecond, "time.Since measured a 10ms sleep as %v", slept)
	check.That(now.Year() >= 2024, "the wall clock says %v", now.UTC().Format(time.RFC3339Nano))
	check.Done()
}
