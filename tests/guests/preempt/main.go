// Command preempt checks asynchronous preemption: with GOMAXPROCS=1, a goroutine spins in a
// loop with no function calls while main sleeps and then forces a garbage collection. Both
// need the spinner stopped by a signal (the runtime's SIGURG, sent with tgkill), so without
// signal delivery this program hangs, and the test's timeout reports it.
package main

import (
	"runtime"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

var spins uint64

func main() {
	check.Infof("GOMAXPROCS=%d", runtime.GOMAXPROCS(0))
	go func() {
		for {
			spins++
		}
	}()
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	slept := time.Since(start)
	check.That(slept >= 50*time.Millisecond, "main woke up after %v while a goroutine spun", slept)
	start = time.Now()
	runtime.GC()
	check.Okf("runtime.GC stopped the spinning goroutine and finished in %v", time.Since(start).Round(time.Microsecond))
	check.Done()
}
