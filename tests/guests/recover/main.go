// Command recover triggers run-time panics and recovers them: a nil dereference (a page fault
// in the guest, which the monitor must turn into SIGSEGV with the faulting address, so that the
// runtime can say "nil pointer dereference"), a call through a nil func (a fault on instruction
// fetch at address 0), and bounds checks (no fault at all). The recovered texts must be Go's own.
//
// Arguments name the cases to run; none runs them all.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

type big struct{ pad [100]int }

var (
	nilPtr  *big
	nilFunc func() int
	slice   = []int{1, 2, 3}
	index   = 5
	sink    int
)

const nilDeref = "runtime error: invalid memory address or nil pointer dereference"

var cases = []struct {
	name, want string
	f          func()
}{
	{"nil-read", nilDeref, func() { sink = nilPtr.pad[3] }},
	{"nil-write", nilDeref, func() { nilPtr.pad[7] = 1 }},
	{"nil-call", nilDeref, func() { sink = nilFunc() }},
	{"index", "runtime error: index out of range [5] with length 3", func() { sink = slice[index] }},
	{"slice", "runtime error: slice bounds out of range [:5] with capacity 3", func() { sink = len(slice[:index]) }},
}

func main() {
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	ran := 0
	for _, c := range cases {
		if len(want) > 0 && !want[c.name] {
			continue
		}
		ran++
		got := catch(c.f)
		fmt.Printf("%s: recovered %q\n", c.name, got)
		check.That(got == c.want, "%s: recovered the runtime's own error", c.name)
		// The goroutine must be sound after the recovery: allocate, and let the GC scan it.
		runtime.GC()
	}
	if len(want) > 0 {
		check.That(ran == len(want), "ran %d of the %d cases named", ran, len(want))
	}
	check.Done()
}

// catch runs f and returns the text of the runtime.Error it panics with.
func catch(f func()) (msg string) {
	defer func() {
		r := recover()
		if err, ok := r.(runtime.Error); ok {
			msg = err.Error()
		} else {
			msg = fmt.Sprintf("not a runtime.Error: %T %v", r, r)
		}
	}()
	f()
	return "no panic"
}
