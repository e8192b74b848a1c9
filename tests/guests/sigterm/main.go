// Command sigterm waits for a signal from outside: the test sends it to the process it started
// (in a VM, the monitor, which must pass it on to the guest) once the guest has printed "ready".
//
// The signal is SIGTERM, or the one the argument names (hup, usr1, usr2, winch). By default the
// guest asks for it with os/signal.Notify, prints "got NAME" when it arrives and exits 0. With the
// argument "default" it does not: the runtime's default action for SIGTERM kills the process
// with that signal, status 128+15 = 143.
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

var byName = map[string]syscall.Signal{
	"term": syscall.SIGTERM, "hup": syscall.SIGHUP, "usr1": syscall.SIGUSR1,
	"usr2": syscall.SIGUSR2, "winch": syscall.SIGWINCH,
}

func main() {
	name := "term"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	if name == "default" {
		fmt.Println("ready")
		time.Sleep(patience)
		check.Failf("still alive %v after saying ready: SIGTERM did not kill the process", patience)
		check.Done()
		return
	}
	want, ok := byName[name]
	if !ok {
		check.Failf("unknown signal %q", name)
		check.Done()
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, want)
	fmt.Println("ready")
	select {
	case s := <-c:
		check.That(s == want, "the signal received is %v, want %v", s, want)
		fmt.Println("got", name)
	case <-time.After(patience):
		check.Failf("no %v within %v of saying ready", want, patience)
	}
	check.Done()
}
