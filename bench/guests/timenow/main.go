// Command timenow is the guest of BenchmarkTimeNow: it calls time.Now N times (N is its first
// argument), times the loop itself and prints "ns/call=X calls=N".
//
// Natively time.Now reads the clock through Linux's vDSO; in a morgana VM through morgana's
// vDSO (rdtsc and a page the monitor keeps up to date). Neither should leave user space.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: timenow N")
		os.Exit(2)
	}
	var last time.Time
	for range 1000 { // warm up
		last = time.Now()
	}
	start := time.Now()
	for range n {
		last = time.Now()
	}
	elapsed := last.Sub(start)
	fmt.Printf("ns/call=%.2f calls=%d\n", float64(elapsed.Nanoseconds())/float64(n), n)
}
