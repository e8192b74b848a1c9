// Package testenv holds the skip helpers of morgana's tests, in the manner of Go's own
// internal/testenv: a test that needs something the machine may lack (KVM, a command) says so
// in its first line and is skipped with a clear message where that thing is missing.
//
// CI must not go green by skipping: with MORGANA_REQUIRE_KVM=1 a missing or unusable KVM
// device fails the test instead, and with MORGANA_REQUIRE_COMMANDS=1 so does a missing command.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Environment variables read by this package.
const (
	// KVMDeviceEnv overrides the KVM device path, for the monitor and for these helpers alike.
	KVMDeviceEnv = "MORGANA_KVM_DEVICE"
	// RequireKVMEnv, set to 1, turns MustHaveKVM's skip into a failure (CI has KVM).
	RequireKVMEnv = "MORGANA_REQUIRE_KVM"
	// RequireCommandsEnv, set to 1, turns MustHaveCommand's skip into a failure.
	RequireCommandsEnv = "MORGANA_REQUIRE_COMMANDS"
)

// DefaultKVMDevice is where Linux puts the KVM device.
const DefaultKVMDevice = "/dev/kvm"

// kvmGetAPIVersion is KVM_GET_API_VERSION, _IO(KVMIO, 0x00), from linux/kvm.h;
// kvmAPIVersion is the only version Linux has ever answered.
const (
	kvmGetAPIVersion = 0xAE00
	kvmAPIVersion    = 12
)

// KVMDevice returns the KVM device path the monitor will open: $MORGANA_KVM_DEVICE or /dev/kvm.
func KVMDevice() string {
	if p := os.Getenv(KVMDeviceEnv); p != "" {
		return p
	}
	return DefaultKVMDevice
}

var kvmOnce = sync.OnceValue(func() error { return probeKVM(KVMDevice()) })

// HasKVM reports why KVM cannot be used, or nil when the device opens read-write and answers
// KVM_GET_API_VERSION with 12.
func HasKVM() error { return kvmOnce() }

func probeKVM(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	v, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), kvmGetAPIVersion, 0)
	if errno != 0 {
		return &os.PathError{Op: "ioctl KVM_GET_API_VERSION", Path: path, Err: errno}
	}
	if v != kvmAPIVersion {
		return fmt.Errorf("%s: KVM API version %d, want %d", path, v, kvmAPIVersion)
	}
	return nil
}

// MustHaveKVM skips t when KVM is not usable, or fails it when MORGANA_REQUIRE_KVM=1.
func MustHaveKVM(t testing.TB) {
	t.Helper()
	if err := HasKVM(); err != nil {
		missing(t, RequireKVMEnv, "KVM is not usable: %v", err)
	}
}

// MustHaveCommand returns the path of the command name, found in $PATH; it skips t when there is
// none, or fails it when MORGANA_REQUIRE_COMMANDS=1.
func MustHaveCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, RequireCommandsEnv, "command %q not found: %v", name, err)
	}
	return p
}

func missing(t testing.TB, requireEnv, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (and %s=1)", msg, requireEnv)
		return
	}
	t.Skipf("skipping: %s (set %s=1 to fail instead)", msg, requireEnv)
}

var errNoModule = errors.New("no go.mod in this directory or any parent")

var rootOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findModuleRoot(dir)
})

// ModuleRoot returns the directory holding the go.mod of the module around the current
// directory (go test runs each package's tests in that package's directory).
func ModuleRoot() (string, error) { return rootOnce() }

// MustModuleRoot is ModuleRoot for tests: it fails t when there is no module root.
func MustModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := ModuleRoot()
	if err != nil {
		t.Fatalf("module root: %v", err)
	}
	return dir
}

func findModuleRoot(dir string) (string, error) {
	for d := filepath.Clean(dir); ; {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && fi.Mode().IsRegular() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s: %w", dir, errNoModule)
		}
		d = parent
	}
}

// MustHaveNetAdmin skips t unless the process may create network namespaces, TAPs and
// bridges (root, with the ip command and /dev/net/tun); with MORGANA_REQUIRE_COMMANDS=1 it
// fails instead, as CI runs as root.
func MustHaveNetAdmin(t testing.TB) {
	t.Helper()
	MustHaveCommand(t, "ip")
	if os.Geteuid() != 0 {
		missing(t, RequireCommandsEnv, "network namespaces need root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		missing(t, RequireCommandsEnv, "no TAP support: %v", err)
	}
}
