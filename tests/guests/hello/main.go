// Command hello is the smallest guest: it prints its arguments and environment as JSON (the
// test compares them with what it passed; the variables morgana run sets of itself, such as
// MORGANA_MODE, go on an "info:" line of their own, as they differ from the native run),
// writes one line to each of stdout and stderr, and exits with a chosen status.
//
// Arguments are echoed, never parsed as flags, except these, wherever they stand:
//
//	--exit=N   exit with status N after printing
//	--bulk=N   also write N bytes of a known pattern to stdout, in uneven writes
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/morgana-os/morgana/abi"
)

func main() {
	exit, bulk := 0, 0
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "--exit="); ok {
			exit = atoi(v)
		}
		if v, ok := strings.CutPrefix(a, "--bulk="); ok {
			bulk = atoi(v)
		}
	}
	fmt.Printf("args: %s\n", mustJSON(os.Args))
	env, fromMonitor := []string{}, map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if k == abi.ModeEnv || k == abi.ImageSizeEnv || k == abi.BootNSEnv || k == "GOMEMLIMIT" {
			fromMonitor[k] = v
			continue
		}
		env = append(env, kv)
	}
	fmt.Printf("env: %s\n", mustJSON(env))
	fmt.Printf("info: morgana run: %s\n", mustJSON(fromMonitor))
	fmt.Fprintln(os.Stderr, "hello on stderr")
	if bulk > 0 {
		writeBulk(bulk)
	}
	fmt.Println("hello on stdout")
	os.Exit(exit)
}

// writeBulk writes n bytes of pattern(i) in writes of uneven sizes, then a newline.
func writeBulk(n int) {
	sizes := []int{1, 7, 4096, 4095, 65537, 300000, 1 << 20}
	buf := make([]byte, 0, 1<<20)
	for i, k := 0, 0; i < n; k++ {
		buf = buf[:0]
		for j := 0; j < sizes[k%len(sizes)] && i < n; j++ {
			buf = append(buf, pattern(i))
			i++
		}
		if _, err := os.Stdout.Write(buf); err != nil {
			fmt.Fprintf(os.Stderr, "write: %v\n", err)
			os.Exit(1)
		}
	}
	os.Stdout.WriteString("\n")
}

// pattern is the byte at offset i of the bulk output: printable, and not periodic in any
// power of two, so a lost or repeated page shows. The test computes the same.
func pattern(i int) byte { return 'a' + byte(i%23) }

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hello: bad number %q\n", s)
		os.Exit(2)
	}
	return n
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
