package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A target is the environment of a go build: the host's own (for the monitor), or a guest's.
type target struct {
	name string   // for file names; "" for the host
	env  []string // added to the go command's environment
}

var (
	hostTarget = target{}
	// monitorTarget builds morgana as `make build` does: static, without
	// cgo, so that it starts without the dynamic loader and glibc.
	monitorTarget = target{env: []string{"CGO_ENABLED=0"}}
	// guestTarget is what morgana runs: a static linux/amd64 Go program without cgo.
	guestTarget = target{name: "amd64", env: []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}}
	// arm64Target makes an ELF of the wrong architecture, for the bad-input tests.
	arm64Target = target{name: "arm64", env: []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}}
)

// goCommand returns `go args...` to run in the module root for target t. VCS stamping is off:
// a fresh clone or a repository with no commits must build all the same.
func goCommand(t target, args ...string) *exec.Cmd {
	if len(args) > 0 && (args[0] == "build" || args[0] == "test") {
		args = append([]string{args[0], "-buildvcs=false"}, args[1:]...)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), t.env...)
	return cmd
}

// builds caches this run's builds by what was built, so that each is built once however many
// tests and modes use it.
var builds sync.Map // string -> func() (string, error)

func cachedBuild(key string, build func() (string, error)) (string, error) {
	f, _ := builds.LoadOrStore(key, sync.OnceValues(build))
	return f.(func() (string, error))()
}

// buildGuest builds the guest program tests/guests/<name> for guestTarget and returns its path.
func buildGuest(t testing.TB, name string) string {
	t.Helper()
	return buildGuestFor(t, name, guestTarget)
}

// buildGuestFor builds tests/guests/<name> for tgt.
func buildGuestFor(t testing.TB, name string, tgt target) string {
	t.Helper()
	out := filepath.Join(workDir, "guests", tgt.name, name)
	path, err := cachedBuild("guest "+tgt.name+" "+name, func() (string, error) {
		return out, run(goCommand(tgt, "build", "-o", out, "./tests/guests/"+name))
	})
	if err != nil {
		t.Fatalf("building guest %s: %v", name, err)
	}
	return path
}

// buildStdTest compiles the test binary of standard-library package pkg for guestTarget.
func buildStdTest(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(workDir, "std", strings.ReplaceAll(pkg, "/", "_")+".test")
	path, err := cachedBuild("std "+pkg, func() (string, error) {
		return out, run(goCommand(guestTarget, "test", "-c", "-o", out, pkg))
	})
	if err != nil {
		t.Fatalf("building the tests of %s: %v", pkg, err)
	}
	return path
}

// run runs a build command and returns its output in the error when it fails.
func run(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}
