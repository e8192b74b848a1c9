package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFindModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := findModuleRoot(dir)
		if err != nil || got != root {
			t.Errorf("findModuleRoot(%q) = %q, %v; want %q", dir, got, err, root)
		}
	}
	// A directory named go.mod is not a module file.
	other := t.TempDir()
	if err := os.Mkdir(filepath.Join(other, "go.mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findModuleRoot(other); got == other {
		t.Errorf("findModuleRoot(%q) = %q, %v: took a directory named go.mod for a module", other, got, err)
	}
	if _, err := findModuleRoot("/"); err != nil && !errors.Is(err, errNoModule) {
		t.Errorf("findModuleRoot(/) = %v, want errNoModule or a root", err)
	}
}

func TestModuleRootIsThisModule(t *testing.T) {
	root := MustModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "module github.com/morgana-os/morgana") {
		t.Errorf("%s/go.mod is not morgana's", root)
	}
}

func TestProbeKVMErrors(t *testing.T) {
	if err := probeKVM("/nonexistent/kvm"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("probeKVM(missing) = %v, want not-exist", err)
	}
	// /dev/null opens read-write but is no KVM device: the ioctl must tell.
	if err := probeKVM(os.DevNull); !errors.Is(err, syscall.ENOTTY) {
		t.Errorf("probeKVM(%s) = %v, want ENOTTY", os.DevNull, err)
	}
}

func TestKVMDeviceOverride(t *testing.T) {
	t.Setenv(KVMDeviceEnv, "")
	if got := KVMDevice(); got != DefaultKVMDevice {
		t.Errorf("KVMDevice() = %q, want %q", got, DefaultKVMDevice)
	}
	t.Setenv(KVMDeviceEnv, "/elsewhere/kvm")
	if got := KVMDevice(); got != "/elsewhere/kvm" {
		t.Errorf("KVMDevice() = %q with %s set", got, KVMDeviceEnv)
	}
}

// recordTB records what missing asked of it instead of skipping or failing (the real ones
// would end the calling goroutine).
type recordTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordTB) Helper()                   {}
func (r *recordTB) Skipf(f string, a ...any)  { r.skipped = fmt.Sprintf(f, a...) }
func (r *recordTB) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestMissingSkipsOrFails(t *testing.T) {
	const env = "MORGANA_TESTENV_SELFTEST"
	t.Setenv(env, "")
	r := &recordTB{TB: t}
	missing(r, env, "no %s", "widget")
	if r.failed != "" || !strings.Contains(r.skipped, "no widget") || !strings.Contains(r.skipped, env+"=1") {
		t.Errorf("without %s: skipped=%q failed=%q; want a skip naming the variable", env, r.skipped, r.failed)
	}
	t.Setenv(env, "1")
	r = &recordTB{TB: t}
	missing(r, env, "no %s", "widget")
	if r.skipped != "" || !strings.Contains(r.failed, "no widget") {
		t.Errorf("with %s=1: skipped=%q failed=%q; want a failure", env, r.skipped, r.failed)
	}
}
