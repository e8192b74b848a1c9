// Command threadexit makes threads end and new ones start, again and again:
// a goroutine that exits while locked to its thread takes the thread with
// it. In a VM each thread is a vCPU, parked when its thread exits and
// reused by the next clone.
package main

import (
	"runtime"
	"sync"
	"syscall"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

func main() {
	tids := map[int]bool{}
	var mu sync.Mutex
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				mu.Lock()
				tids[syscall.Gettid()] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	// Every locked goroutine ran on a thread no other one had.
	check.That(len(tids) == 60, "60 goroutines ran on %d distinct threads", len(tids))
	check.Done()
}
