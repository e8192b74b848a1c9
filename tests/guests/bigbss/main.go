// Command bigbss has a static array far larger than the memory it runs in, as any Go program with
// crypto/rand has since Go 1.26 (a 32 MiB DRBG buffer), and touches a little of it. On Linux the
// zero pages it never touches cost nothing; in a VM the monitor must give them frames only when
// touched too, or the image would not fit in `--mem 48M` at all.
package main

import (
	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

// big is 256 MiB of BSS.
var big [256 << 20]byte

func main() {
	const touched = 4 << 20
	for i := 0; i < touched; i += 4096 {
		big[i] = byte(i>>12) | 1
	}
	big[len(big)-1] = 7
	sum := 0
	for i := 0; i < touched; i += 4096 {
		sum += int(big[i])
	}
	check.That(big[len(big)-2] == 0 && big[len(big)-1] == 7, "the end of a 256 MiB BSS array reads as written")
	check.That(sum > 0 && big[touched] == 0, "4 MiB of it written, the rest zero")
	check.Done()
}
