// Command stdin reads its standard input to the end and prints how many bytes it read (an info
// line) and their SHA-256, which the test compares with what it sent. First it prints what kind
// of file its stdin and stdout are (fstat), as a program does to tell a terminal from a pipe.
//
// With the argument "cat" it copies stdin to stdout instead, as cat does: io.Copy between two
// *os.File tries copy_file_range first, which the ABI refuses quietly (no "unsupported" line).
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "cat" {
		_, err := io.Copy(os.Stdout, os.Stdin)
		check.That(err == nil, "copying stdin to stdout: %v", err)
		check.Done()
		return
	}
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		fi, err := f.Stat()
		check.That(err == nil, "stat %s: %v", f.Name(), err)
		if err == nil {
			fmt.Printf("%s: %v\n", f.Name(), fi.Mode().Type())
		}
	}
	h := sha256.New()
	n, err := io.Copy(h, os.Stdin)
	check.That(err == nil, "reading stdin: %v", err)
	fmt.Printf("info: %d bytes\n", n)
	if n > 0 {
		fmt.Printf("sha256 %x\n", h.Sum(nil))
	}
	check.Done()
}
