// Command gcpressure allocates several GiB in total, in a loop, while keeping a bounded set of
// buffers live, and checks every buffer's contents before dropping it: under `--mem 128M` the
// garbage collector (and the monitor's page recycling) must keep up, and must never hand out
// memory that still holds someone else's data. It prints runtime.MemStats at the end.
package main

import (
	"flag"
	"runtime"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

var (
	totalMiB = flag.Int("total", 3072, "MiB to allocate in all")
	liveMiB  = flag.Int("live", 16, "MiB kept live at any time (the heap grows to about 4 times that)")
)

// sizes are the buffer sizes, in 8-byte words: small-object size classes, and large objects that
// get spans of their own.
var sizes = []int{3, 64, 1000, 4096, 32 << 10, 128 << 10}

type buffer struct {
	seed  uint64
	words []uint64
}

func fill(b *buffer) {
	x := b.seed
	for i := range b.words {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.words[i] = x
	}
}

func verify(b *buffer) bool {
	x := b.seed
	for i := range b.words {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if b.words[i] != x {
			return false
		}
	}
	return true
}

func main() {
	flag.Parse()
	start := time.Now()
	var live []*buffer
	var liveBytes, total, bad, n uint64
	for total < uint64(*totalMiB)<<20 {
		words := sizes[n%uint64(len(sizes))]
		b := &buffer{seed: n*0x9e3779b97f4a7c15 | 1, words: make([]uint64, words)}
		fill(b)
		live = append(live, b)
		liveBytes += uint64(words) * 8
		total += uint64(words) * 8
		n++
		// Drop the oldest buffers, verifying them, until the live set fits again.
		for liveBytes > uint64(*liveMiB)<<20 {
			old := live[0]
			if !verify(old) {
				bad++
			}
			liveBytes -= uint64(len(old.words)) * 8
			live[0] = nil
			live = live[1:]
		}
	}
	for _, b := range live {
		if !verify(b) {
			bad++
		}
	}
	elapsed := time.Since(start)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	check.Infof("allocated %d MiB in %d buffers in %v", total>>20, n, elapsed.Round(time.Millisecond))
	check.Infof("MemStats: TotalAlloc=%dMiB Sys=%dMiB HeapSys=%dMiB HeapInuse=%dMiB HeapReleased=%dMiB NumGC=%d PauseTotal=%v",
		ms.TotalAlloc>>20, ms.Sys>>20, ms.HeapSys>>20, ms.HeapInuse>>20, ms.HeapReleased>>20, ms.NumGC,
		time.Duration(ms.PauseTotalNs).Round(time.Microsecond))
	check.That(bad == 0, "%d of %d buffers held their data", n-bad, n)
	check.That(ms.TotalAlloc >= total, "MemStats.TotalAlloc %d MiB >= %d MiB allocated", ms.TotalAlloc>>20, total>>20)
	check.That(ms.NumGC > 0, "the garbage collector ran (%d cycles)", ms.NumGC)
	check.Done()
}
