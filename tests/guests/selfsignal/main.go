// Command selfsignal sends itself SIGUSR1, caught with os/signal.Notify, three ways: kill(2) to
// its own process (syscall.Kill(getpid, ...)), tgkill(2) to its own thread (what raise(3)
// does), and tgkill(2) to another of its threads, one blocked in the kernel (in a VM, in the
// monitor) waiting on a channel. Each time the signal must arrive within a second, and once.
package main

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

const (
	deadline = time.Second
	// quiet is how long a second delivery of the same signal is waited for.
	quiet = 100 * time.Millisecond
)

func main() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGUSR1)
	pid := syscall.Getpid()

	expect(c, "kill(getpid, SIGUSR1)", func() error { return syscall.Kill(pid, syscall.SIGUSR1) })

	// tgkill to the calling thread: main stays locked to it, so gettid names it, and no other
	// goroutine runs on it.
	runtime.LockOSThread()
	tid := syscall.Gettid()
	expect(c, "tgkill(getpid, gettid, SIGUSR1)", func() error { return syscall.Tgkill(pid, tid, syscall.SIGUSR1) })

	// tgkill to another thread, asleep in a blocking receive (a futex wait) on a thread of its
	// own: the signal must interrupt it, and the runtime pass it on to the signal goroutine.
	tids := make(chan int)
	stop := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		tids <- syscall.Gettid()
		<-stop
	}()
	other := <-tids
	time.Sleep(10 * time.Millisecond) // let it block
	check.Infof("main on thread %d, the blocked goroutine on %d", tid, other)
	check.That(other != tid, "the blocked goroutine has a thread of its own")
	expect(c, "tgkill(getpid, other thread, SIGUSR1)", func() error { return syscall.Tgkill(pid, other, syscall.SIGUSR1) })
	close(stop)

	check.Done()
}

// expect sends a signal with send and checks that c receives SIGUSR1 once, within deadline.
func expect(c chan os.Signal, what string, send func() error) {
	start := time.Now()
	if err := send(); err != nil {
		check.Failf("%s: %v", what, err)
		return
	}
	select {
	case s := <-c:
		check.That(s == syscall.SIGUSR1, "%s: received %v", what, s)
		check.Infof("%s: arrived after %v", what, time.Since(start).Round(time.Microsecond))
	case <-time.After(deadline):
		check.Failf("%s: no signal within %v", what, deadline)
		return
	}
	select {
	case s := <-c:
		check.Failf("%s: a second signal %v arrived", what, s)
	case <-time.After(quiet):
		check.Okf("%s: delivered once", what)
	}
}
