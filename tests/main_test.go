package tests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

var long = flag.Bool("long", os.Getenv("MORGANA_LONG_TESTS") == "1",
	"run the long tests too (the whole standard-library list); also MORGANA_LONG_TESTS=1")

// Set by TestMain.
var (
	workDir    string // temporary directory for this run's builds; removed at the end
	morganaBin string // the morgana binary, built once per run
	morganaErr error  // why it did not build
	moduleRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if moduleRoot, err = testenv.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	if workDir, err = os.MkdirTemp("", "morgana-tests-"); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(workDir)

	// Build the monitor once, unless MORGANA_TEST_BIN names one to test. A failure is not fatal
	// here: the native column needs no monitor, and each monitor-mode test fails with this
	// error (mustHaveMorgana).
	if morganaBin = os.Getenv("MORGANA_TEST_BIN"); morganaBin != "" {
		if morganaBin, err = filepath.Abs(morganaBin); err == nil {
			_, err = os.Stat(morganaBin)
		}
		morganaErr = err
	} else {
		morganaBin = filepath.Join(workDir, "morgana")
		if out, err := goCommand(monitorTarget, "build", "-o", morganaBin, "./cmd/morgana").CombinedOutput(); err != nil {
			morganaErr = fmt.Errorf("go build ./cmd/morgana: %v\n%s", err, out)
		}
	}
	return m.Run()
}

// mustHaveMorgana returns the morgana binary, or fails t when it did not build.
func mustHaveMorgana(t testing.TB) string {
	t.Helper()
	if morganaErr != nil {
		t.Fatalf("no morgana binary: %v", morganaErr)
	}
	return morganaBin
}
