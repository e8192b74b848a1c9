package elfimage

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The tests build real Go binaries. Each distinct build is done once per
// test run and shared, since a cross-compile or a PIE build recompiles the
// runtime and takes a while on a small machine.
var builds struct {
	sync.Mutex
	dir   string
	cache map[string]buildResult
}

type buildResult struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "elfimage-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builds.dir, builds.cache = dir, map[string]buildResult{}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// guestSrc is the tiny program the tests build; main.main stays a real
// function because runtime.main calls it through a pointer. The tests
// expect func count on lines 6-10.
const guestSrc = `package main

var counter int

//go:noinline
func count(n int) int {
	for i := 0; i < n; i++ {
		counter += i
	}
	return counter
}

func main() {
	println("hello from a guest", count(10), label)
}

var label = "built-in"
`

// cgoSrc needs cgo: it cannot build with CGO_ENABLED=0.
const cgoSrc = `package main

// static int add(int a, int b) { return a + b; }
import "C"

func main() { println(C.add(1, 2)) }
`

// goBuild describes one test binary.
type goBuild struct {
	goarch string // GOARCH; "" means amd64
	cgo    bool   // build cgoSrc with CGO_ENABLED=1 instead of guestSrc
	flags  []string
}

// buildGo builds b (once per test run) and returns the binary's path. It
// skips the test when there is no go command.
func buildGo(t *testing.T, b goBuild) (string, error) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	if b.goarch == "" {
		b.goarch = "amd64"
	}
	key := fmt.Sprintf("%s-%v-%s", b.goarch, b.cgo, strings.Join(b.flags, " "))
	builds.Lock()
	defer builds.Unlock()
	if r, ok := builds.cache[key]; ok {
		return r.path, r.err
	}
	dir := filepath.Join(builds.dir, fmt.Sprintf("b%d", len(builds.cache)))
	r := buildResult{path: filepath.Join(dir, "guest")}
	src, cgo := guestSrc, "0"
	if b.cgo {
		src, cgo = cgoSrc, "1"
	}
	r.err = os.MkdirAll(dir, 0o755)
	if r.err == nil {
		r.err = os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module guest\n\ngo 1.22\n"), 0o644)
	}
	if r.err == nil {
		r.err = os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
	}
	if r.err == nil {
		args := append([]string{"build", "-o", r.path}, b.flags...)
		cmd := exec.Command(goCmd, append(args, ".")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+b.goarch, "CGO_ENABLED="+cgo, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			r.err = fmt.Errorf("go build %s: %v\n%s", key, err, out)
		}
	}
	builds.cache[key] = r
	return r.path, r.err
}

// mustBuildGo is buildGo for builds that must work.
func mustBuildGo(t *testing.T, b goBuild) string {
	t.Helper()
	p, err := buildGo(t, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StringVar reads a string variable as the linker initialised it, also
// one set with -ldflags -X, and says when there is none.
func TestStringVar(t *testing.T) {
	tests := []struct {
		flags []string
		name  string
		want  string
		ok    bool
	}{
		{nil, "main.label", "built-in", true},
		{[]string{"-ldflags=-X 'main.label=net:service block:storage'"}, "main.label", "net:service block:storage", true},
		{nil, "main.nosuch", "", false},
		{nil, "main.counter", "", false}, // an int, not a string
	}
	for _, tt := range tests {
		path, err := buildGo(t, goBuild{flags: tt.flags})
		if err != nil {
			t.Fatal(err)
		}
		im, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := im.StringVar(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%v: StringVar(%q) = %q, %v; want %q, %v", tt.flags, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
