package sitegen

import (
	"math/rand/v2"
	"strings"
)

// The benchmark files: bench/website/run.sh measures every server on the
// same two, a small page and a larger file, served from this site.
const (
	benchPageSize = 1024
	benchFileSize = 100 * 1024
)

// benchPage is a 1 KiB HTML page, exactly.
func benchPage() []byte {
	const head = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>1 KiB</title></head>\n" +
		"<body><p>A page of exactly 1024 bytes, for the benchmarks in bench/website.</p>\n<!--"
	const tail = "-->\n</body>\n</html>\n"
	pad := benchPageSize - len(head) - len(tail)
	return []byte(head + strings.Repeat(".", pad) + tail)
}

// benchFile is 100 KiB of pseudo-random bytes from a fixed seed: the same
// on every build, and incompressible, so no server can take a shortcut.
func benchFile() []byte {
	r := rand.NewChaCha8([32]byte{'m', 'o', 'r', 'g', 'a', 'n', 'a'})
	b := make([]byte, benchFileSize)
	r.Read(b)
	return b
}
