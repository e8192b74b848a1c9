package hvt

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBatchScheduling(t *testing.T) {
	before := map[int]int32{} // nice values, which must stay
	tids, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		if a, err := unix.SchedGetAttr(tid, 0); err == nil {
			before[tid] = a.Nice
		}
	}
	if _, err := batchScheduling(); err != nil {
		t.Fatal(err)
	}
	// A thread made afterwards (a goroutine locked to a new one) inherits.
	started := make(chan int)
	release := make(chan struct{})
	for range 4 {
		go func() {
			runtime.LockOSThread() // the thread exits with the goroutine
			started <- unix.Gettid()
			<-release
		}()
	}
	for range 4 {
		<-started
	}
	defer close(release)
	tids, err = threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	if len(tids) < 2 {
		t.Fatalf("threads: %v", tids)
	}
	for _, tid := range tids {
		a, err := unix.SchedGetAttr(tid, 0)
		if err == unix.ESRCH {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if a.Policy != unix.SCHED_BATCH {
			t.Errorf("thread %d: policy %d, want SCHED_BATCH", tid, a.Policy)
		}
		if nice, ok := before[tid]; ok && a.Nice != nice {
			t.Errorf("thread %d: nice %d, was %d", tid, a.Nice, nice)
		}
	}
}
