package tests

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// The tests here check the parts of the command-line contract that the guest tables do not:
// --verbose, defaults, package directories as images, and `morgana build`.

// TestVerboseNamesVirtualization checks that --verbose says which virtualization it found, and
// that it is the one this host's kernel modules provide.
func TestVerboseNamesVirtualization(t *testing.T) {
	want := hostVirtualization()
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			if m.name != "hvt" {
				t.Skipf("%s mode has no virtualization to name", m.name)
			}
			m.ready(t)
			s := runSpec{image: buildGuest(t, "hello"), monitorFlags: []string{"--verbose"}}
			r := runIn(t, m, s)
			if r.exit != 0 || !strings.Contains(r.stdout, "hello on stdout") {
				t.Errorf("exit %d, stdout %q: the guest did not run", r.exit, tail(r.stdout, 200))
			}
			checkHello(t, m, s, r)
			names := []string{"VT-x", "AMD-V", "PVM"}
			if !containsAnyFold(r.stderr, names) {
				t.Errorf("--verbose output names none of %q", names)
			}
			if want != "" && !strings.Contains(r.stderr, want) {
				t.Errorf("--verbose output does not say %s, which this host's modules provide", want)
			}
		})
	}
}

// hostVirtualization names the KVM back end whose module is loaded: "PVM", "VT-x", "AMD-V", or
// "" when it cannot tell.
func hostVirtualization() string {
	for _, m := range []struct{ module, name string }{{"kvm_pvm", "PVM"}, {"kvm_intel", "VT-x"}, {"kvm_amd", "AMD-V"}} {
		if _, err := os.Stat(filepath.Join("/sys/module", m.module)); err == nil {
			return m.name
		}
	}
	return ""
}

// TestDefaultCPUs checks that without --cpus the guest has one CPU.
func TestDefaultCPUs(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			r := runIn(t, m, runSpec{image: buildGuest(t, "mutex"), args: []string{"-want-cpus", "1", "-n", "10000"}})
			if r.exit != 0 {
				t.Errorf("exit status %d, want 0", r.exit)
			}
			checkPassed(t, r)
		})
	}
}

// TestRunPackageDir checks that `morgana run ./examples/hello` builds the package and runs it.
func TestRunPackageDir(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			r := runIn(t, m, runSpec{image: "./examples/hello", args: []string{"one", "two"}, dir: moduleRoot, timeout: 3 * defaultTimeout})
			if r.exit != 0 {
				t.Errorf("exit status %d, want 0", r.exit)
			}
			for _, want := range []string{"Hello from a Go program!", "GOOS/GOARCH: linux/amd64, NumCPU: 1", `args: ["one" "two"]`} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q", want)
				}
			}
		})
	}
}

// TestBuild checks that `morgana build` makes a static linux/amd64 ELF, which then runs both
// natively and through the monitor.
func TestBuild(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			img := morganaBuild(t, "./tests/guests/hello")
			s := runSpec{image: img, args: []string{"built"}, env: []string{"K=V"}}
			for _, m := range []mode{modes[0], m} {
				m.ready(t)
				r := runIn(t, m, s)
				if r.exit != 0 {
					t.Errorf("%s: exit status %d, want 0", m.name, r.exit)
				}
				checkHello(t, m, s, r)
			}
		})
	}
}

// morganaBuild runs `morgana build -o IMAGE pkg` and checks that IMAGE is a static x86-64 ELF.
func morganaBuild(t *testing.T, pkg string) string {
	t.Helper()
	bin := mustHaveMorgana(t)
	out := filepath.Join(t.TempDir(), "image")
	r := runCmd(t, 3*defaultTimeout, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "build", "-o", out, pkg)
		cmd.Dir = moduleRoot
		return cmd
	})
	if r.exit != 0 {
		t.Fatalf("morgana build: exit status %d", r.exit)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatalf("morgana build made no ELF: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		t.Errorf("image is %v %v, want a 64-bit x86-64 ELF", f.Class, f.Machine)
	}
	if slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC }) {
		t.Errorf("image is dynamically linked")
	}
	return out
}

// TestKVMDeviceOverride checks that MORGANA_KVM_DEVICE pointing at the real device still boots
// (the bad-input tests check a wrong one).
func TestKVMDeviceOverride(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			s := runSpec{image: buildGuest(t, "hello"), monitorEnv: []string{testenv.KVMDeviceEnv + "=" + testenv.KVMDevice()}}
			r := runIn(t, m, s)
			if r.exit != 0 {
				t.Errorf("exit status %d, want 0", r.exit)
			}
			checkHello(t, m, s, r)
		})
	}
}

// TestFallbackToSPT checks that without a usable KVM and without --mode, morgana says so and
// runs the image in spt mode; with --mode=hvt it is an error (the bad-input tests).
func TestFallbackToSPT(t *testing.T) {
	bin := mustHaveMorgana(t)
	image := buildGuest(t, "hello")
	r := runCmd(t, defaultTimeout, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "run", image)
		cmd.Env = append(os.Environ(), testenv.KVMDeviceEnv+"=/nonexistent/kvm")
		return cmd
	})
	if r.exit != 0 {
		t.Errorf("exit status %d, want 0", r.exit)
	}
	if !strings.Contains(r.stderr, "/nonexistent/kvm") || !strings.Contains(r.stderr, "spt mode") {
		t.Errorf("stderr does not say why and what instead: %q", r.stderr)
	}
	if !strings.Contains(r.stdout, "hello") {
		t.Errorf("the image did not run: %q", r.stdout)
	}
}

// TestBuildFromElsewhere checks `morgana build -o IMAGE DIR` run outside the package's module,
// with a relative output path: the package is built in its own module, the image lands where -o
// says, relative to where morgana was run.
func TestBuildFromElsewhere(t *testing.T) {
	bin := mustHaveMorgana(t)
	dir := t.TempDir()
	r := runCmd(t, 3*defaultTimeout, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "build", "-o", "hello.img", filepath.Join(moduleRoot, "tests/guests/hello"))
		cmd.Dir = dir
		return cmd
	})
	if r.exit != 0 {
		t.Fatalf("morgana build: exit status %d: %s", r.exit, r.stderr)
	}
	if _, err := elf.Open(filepath.Join(dir, "hello.img")); err != nil {
		t.Errorf("no image at -o: %v", err)
	}
}
