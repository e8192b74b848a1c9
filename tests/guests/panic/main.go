// Command panic dies of an unrecovered panic, as a Go program does: status 2 and a traceback
// ("panic: ..." and "goroutine 1 [running]:") on stderr. With GOTRACEBACK=crash in its
// environment the runtime then raises SIGABRT on itself, and the status is 128+6 = 134.
package main

import "fmt"

func main() {
	fmt.Println("about to panic")
	explode()
}

//go:noinline
func explode() { panic("boom from the guest") }
