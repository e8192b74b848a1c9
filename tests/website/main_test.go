package website

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// Set by TestMain.
var (
	moduleRoot string
	workDir    string // this run's builds; removed at the end
	websiteBin string
	websiteErr error
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if moduleRoot, err = testenv.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "website tests:", err)
		return 1
	}
	if workDir, err = os.MkdirTemp("", "morgana-website-tests-"); err != nil {
		fmt.Fprintln(os.Stderr, "website tests:", err)
		return 1
	}
	defer os.RemoveAll(workDir)
	websiteBin, websiteErr = goBuild("./examples/website", "website")
	return m.Run()
}

// goBuild builds a package of the module as a static linux/amd64 program,
// an image as `morgana build` makes them.
func goBuild(pkg, name string) (string, error) {
	out := filepath.Join(workDir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// mustWebsite returns the example's binary, or fails t when it did not build.
func mustWebsite(t testing.TB) string {
	t.Helper()
	if websiteErr != nil {
		t.Fatal(websiteErr)
	}
	return websiteBin
}

var morgana = sync.OnceValues(func() (string, error) { return goBuild("./cmd/morgana", "morgana") })

// mustMorgana returns the morgana CLI, built on first use.
func mustMorgana(t testing.TB) string {
	t.Helper()
	bin, err := morgana()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
