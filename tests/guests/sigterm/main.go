// Command sigterm waits for a SIGTERM from outside: the test sends it to the process it
// started (in a VM, the monitor, which must pass it on to the guest) once the guest has printed
// "ready".
//
// By default the guest asks for the signal with os/signal.Notify, prints "got terminated" when
// it arrives and exits 0. With the argument "default" it does not: the runtime's default action
// for SIGTERM kills the process with that signal, status 128+15 = 143.
//
// Either way, a guest that sees no signal within 20 s says so and exits 1.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

const patience = 20 * time.Second

func main() {
	if len(os.Args) > 1 && os.Args[1] == "default" {
		fmt.Println("ready")
		time.Sleep(patience)
		check.Failf("still alive %v after saying ready: SIGTERM did not kill the process", patience)
		check.Done()
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	fmt.Println("ready")
	select {
	case s := <-c:
		check.That(s == syscall.SIGTERM, "the signal received is %v, want %v", s, syscall.SIGTERM)
		fmt.Println("got terminated")
	case <-time.After(patience):
		check.Failf("no SIGTERM within %v of saying ready", patience)
	}
	check.Done()
}
