// Command oom allocates memory and keeps it live until the runtime fails. Under `--mem 128M` the
// monitor must refuse guest memory beyond the limit, and the program must die as Go does when
// the kernel refuses: "fatal error: out of memory" on stderr, status 2. Reaching -max MiB
// without failing is a test failure (status 1), and keeps a run without a limit from eating the
// host.
package main

import (
	"flag"
	"fmt"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

var (
	maxMiB   = flag.Int("max", 2048, "give up (and fail) after this many MiB")
	chunkKiB = flag.Int("chunk", 1024, "KiB per allocation")
)

var live [][]byte

func main() {
	flag.Parse()
	chunk := *chunkKiB << 10
	for total := 0; total < *maxMiB<<20; total += chunk {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(i>>12) | 1
		}
		live = append(live, b)
		if total%(16<<20) == 0 {
			fmt.Printf("info: %d MiB live\n", total>>20)
		}
	}
	check.Failf("allocated %d MiB without running out of memory", *maxMiB)
	check.Done()
}
