// Command syscall is the guest of BenchmarkSyscall: it makes N getpid system calls (N is its
// first argument), times the loop itself with time.Now and prints "ns/call=X calls=N".
//
// getpid does no work in either kernel (Linux answers from the task struct, morgana's monitor
// with a constant), so the loop measures the round trip of a system call: natively the
// SYSCALL/SYSRET pair, in a VM one exit to the monitor and back.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: syscall N")
		os.Exit(2)
	}
	// Warm up: fault in the code and data of the loop before timing it.
	for range 100 {
		syscall.Getpid()
	}
	var sum int
	start := time.Now()
	for range n {
		sum += syscall.Getpid() // RawSyscallNoError(SYS_GETPID): no scheduler bookkeeping
	}
	elapsed := time.Since(start)
	fmt.Printf("ns/call=%.2f calls=%d pidsum=%d\n", float64(elapsed.Nanoseconds())/float64(n), n, sum)
}
