package tests

import (
	"strings"
	"testing"
	"time"
)

// A stdlibSuite is a standard-library package whose own tests run inside the guest: the test
// binary (go test -c) is an ordinary static Go program, and a large, well-checked one.
// Packages that depend on files (testdata, zoneinfo) or the network are left out, since the
// guest has neither; skip names the few tests of a package that need files, the network, or
// to start processes (os/exec: one image is one process).
type stdlibSuite struct {
	pkg  string
	long bool     // only with -long or MORGANA_LONG_TESTS=1
	skip []string // names of tests to skip (-test.skip)
}

var stdlibSuites = []stdlibSuite{
	// The default run: quick, and between them goroutines, futexes, maps, reflection, and
	// plenty of arithmetic.
	{pkg: "sort"},
	{pkg: "strings"},
	{pkg: "strconv"},
	{pkg: "errors"},
	{pkg: "container/heap"},
	{pkg: "unicode/utf8"},
	{pkg: "sync", skip: []string{
		"ExampleOnceValues", // opens example_test.go
		"TestMutexMisuse",   // os/exec
		"TestIssue76126",    // os/exec
	}},
	{pkg: "encoding/json", skip: []string{"TestHTTPDecoding"}}, // network
	{pkg: "bytes"},
	{pkg: "math/big"}, // the slowest: a few seconds

	{pkg: "bufio", long: true, skip: []string{"TestCopyUnixpacket"}}, // files, unix sockets
	{pkg: "container/list", long: true},
	{pkg: "context", long: true, skip: []string{"ExampleAfterFunc_connection"}}, // network
	{pkg: "encoding/base64", long: true},
	{pkg: "encoding/binary", long: true},
	{pkg: "encoding/csv", long: true},
	{pkg: "encoding/hex", long: true},
	{pkg: "math", long: true},
	{pkg: "math/bits", long: true},
	{pkg: "compress/flate", long: true, skip: []string{"TestWriteBlock", "TestWriteBlockDynamic", "TestWriterPersistentWriteError"}}, // testdata
	{pkg: "crypto/sha256", long: true},
	{pkg: "crypto/sha512", long: true},
	{pkg: "crypto/hmac", long: true},
	{pkg: "hash/crc32", long: true},
	{pkg: "hash/fnv", long: true},
	{pkg: "regexp", long: true, skip: []string{"TestRE2Search"}}, // testdata
	{pkg: "html", long: true},
	{pkg: "maps", long: true},
	{pkg: "slices", long: true},
	{pkg: "unicode", long: true},
	{pkg: "path", long: true},
	// Left out: time (zoneinfo and testdata), text/template (testdata), os, net, io/fs...
}

const stdlibTimeout = 2 * time.Minute

func TestStdlib(t *testing.T) {
	for _, s := range stdlibSuites {
		t.Run(strings.ReplaceAll(s.pkg, "/", "_"), func(t *testing.T) {
			if s.long && !*long {
				t.Skip("long: set MORGANA_LONG_TESTS=1 or -long")
			}
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					m.ready(t)
					// The test binary's own timeout, shorter than ours, makes a hang print
					// every goroutine's stack before we kill it.
					args := []string{"-test.short", "-test.v=false", "-test.timeout=" + (stdlibTimeout - 30*time.Second).String()}
					if len(s.skip) > 0 {
						args = append(args, "-test.skip=^("+strings.Join(s.skip, "|")+")$")
					}
					r := runIn(t, m, runSpec{image: buildStdTest(t, s.pkg), args: args, timeout: stdlibTimeout})
					if r.exit != 0 {
						t.Errorf("exit status %d, want 0", r.exit)
					}
					if !strings.Contains(r.stdout, "PASS") || strings.Contains(r.stdout, "FAIL") {
						t.Errorf("stdout does not say PASS without FAIL: %q", tail(r.stdout, 1000))
					}
				})
			}
		})
	}
}
