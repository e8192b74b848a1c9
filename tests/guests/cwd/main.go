// Command cwd prints its working directory and an absolute path made from a relative one, as
// programs do without a file system (filepath.Abs calls os.Getwd): in a unikernel both answer
// from the root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

func main() {
	wd, err := os.Getwd()
	check.That(err == nil, "os.Getwd: %v", err)
	fmt.Println("cwd", wd)
	abs, err := filepath.Abs("zone.txt")
	check.That(err == nil, "filepath.Abs: %v", err)
	fmt.Println("abs", abs)
	check.Done()
}
