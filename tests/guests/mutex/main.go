// Command mutex makes goroutines on every P contend for a sync.Mutex and hammer atomic
// counters, then checks the totals are exact. With `--cpus 2` and GOMAXPROCS=2 in its
// environment, the monitor must run two vCPUs truly in parallel for futexes and atomics to be
// tested; -want-cpus checks that runtime.NumCPU reflects --cpus (the guest's sched_getaffinity).
package main

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

var (
	wantCPUs   = flag.Int("want-cpus", 0, "expected runtime.NumCPU(), 0 for any")
	workers    = flag.Int("workers", 8, "contending goroutines")
	iterations = flag.Int("n", 100000, "lock/unlock pairs per goroutine")
)

func main() {
	flag.Parse()
	check.Infof("NumCPU=%d GOMAXPROCS=%d", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if *wantCPUs > 0 {
		check.That(runtime.NumCPU() == *wantCPUs, "runtime.NumCPU() = %d, want %d", runtime.NumCPU(), *wantCPUs)
	}
	if s := os.Getenv("GOMAXPROCS"); s != "" {
		want, _ := strconv.Atoi(s)
		check.That(runtime.GOMAXPROCS(0) == want, "runtime.GOMAXPROCS(0) = %d, GOMAXPROCS=%s in the environment", runtime.GOMAXPROCS(0), s)
	}

	var (
		mu      sync.Mutex
		counter int    // guarded by mu
		racy    [2]int // guarded by mu; racy[0] == racy[1] whenever mu is free
		atom    atomic.Int64
		cas     atomic.Int64
		wg      sync.WaitGroup
		torn    atomic.Int64
	)
	start := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range *iterations {
				mu.Lock()
				if racy[0] != racy[1] {
					torn.Add(1)
				}
				counter++
				racy[0]++
				racy[1]++
				mu.Unlock()
				atom.Add(1)
				for {
					old := cas.Load()
					if cas.CompareAndSwap(old, old+1) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	want := *workers * *iterations
	check.Infof("%d goroutines x %d iterations in %v", *workers, *iterations, elapsed.Round(time.Millisecond))
	check.That(counter == want, "mutex-guarded counter = %d, want %d", counter, want)
	check.That(torn.Load() == 0, "no goroutine saw a half-updated pair under the mutex (%d did)", torn.Load())
	check.That(atom.Load() == int64(want), "atomic.Add counter = %d, want %d", atom.Load(), want)
	check.That(cas.Load() == int64(want), "compare-and-swap counter = %d, want %d", cas.Load(), want)
	check.Done()
}
