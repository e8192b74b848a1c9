// Command hello is morgana's demo guest: an ordinary Go program, unchanged, that says where it
// runs. `make demo` boots it in a VM with `morgana run ./examples/hello`; `go run
// ./examples/hello` runs it natively, for comparison.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Println("Hello from a Go program!")
	fmt.Printf("GOOS/GOARCH: %s/%s, NumCPU: %d, GOMAXPROCS: %d\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("args: %q\n", os.Args[1:])
}
