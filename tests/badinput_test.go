package tests

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// A badInputCase is a run that the monitor must refuse before the guest runs: exit status 125,
// nothing on stdout, and exactly one line on stderr that says what is wrong (it must name one
// of hints, case-insensitively).
type badInputCase struct {
	name string
	// needPlatform: the monitor may open its platform (KVM, for hvt) before it looks at what
	// is wrong, so the line's content can only be checked where the mode is ready to run.
	needPlatform bool
	spec         func(t *testing.T) runSpec
	hints        []string
	skip         map[string]string // mode name -> why this case does not apply to it
}

var badInputCases = []badInputCase{
	{
		name: "text-file", needPlatform: true, hints: []string{"elf"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: writeFile(t, "notes.txt", "this is not a program\n")}
		},
	},
	{
		name: "empty-file", needPlatform: true, hints: []string{"elf", "empty", "short"},
		spec: func(t *testing.T) runSpec { return runSpec{image: writeFile(t, "empty", "")} },
	},
	{
		name: "arm64-elf", needPlatform: true, hints: []string{"arm64", "aarch64", "arch", "machine", "x86-64", "x86_64", "amd64"},
		spec: func(t *testing.T) runSpec { return runSpec{image: buildGuestFor(t, "hello", arm64Target)} },
	},
	{
		name: "dynamic-elf", needPlatform: true, hints: []string{"dynamic", "interpreter", "static"},
		spec: func(t *testing.T) runSpec { return runSpec{image: dynamicELF(t)} },
	},
	{
		name: "cgo-static", needPlatform: true, hints: []string{"cgo"},
		spec: func(t *testing.T) runSpec { return runSpec{image: buildStaticCgo(t)} },
	},
	{
		name: "missing-file", needPlatform: true, hints: []string{"/nonexistent/image", "no such file"},
		spec: func(*testing.T) runSpec { return runSpec{image: "/nonexistent/image"} },
	},
	{
		// Neither FIFO has a writer: opening one to read must not wait for it.
		name: "fifo-image", hints: []string{"regular file"},
		spec: func(t *testing.T) runSpec { return runSpec{image: makeFIFO(t), timeout: 20 * time.Second} },
	},
	{
		name: "block-fifo", hints: []string{"regular file"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "blk"), monitorFlags: []string{"--block", "storage=" + makeFIFO(t) + ":ro"}, timeout: 20 * time.Second}
		},
	},
	{
		name: "mem-too-small", needPlatform: true, hints: []string{"mem"},
		spec: func(t *testing.T) runSpec { return runSpec{image: buildGuest(t, "hello"), mem: "1M"} },
	},
	{
		name: "mem-bad-suffix", hints: []string{"mem", "12Q"},
		spec: func(t *testing.T) runSpec { return runSpec{image: buildGuest(t, "hello"), mem: "12Q"} },
	},
	{
		name: "zero-cpus", hints: []string{"cpu"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "hello"), monitorFlags: []string{"--cpus", "0"}}
		},
	},
	{
		name: "no-kvm-device", skip: noKVM, hints: []string{"/nonexistent/kvm"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "hello"), monitorEnv: []string{testenv.KVMDeviceEnv + "=/nonexistent/kvm"}}
		},
	},
	{
		name: "kvm-device-not-kvm", skip: noKVM, hints: []string{os.DevNull, "kvm"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "hello"), monitorEnv: []string{testenv.KVMDeviceEnv + "=" + os.DevNull}}
		},
	},
	{
		name: "unknown-flag", hints: []string{"bogus-flag"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "hello"), monitorFlags: []string{"--bogus-flag"}}
		},
	},
	{
		name: "env-empty-key", hints: []string{"KEY=VALUE"},
		spec: func(t *testing.T) runSpec {
			return runSpec{image: buildGuest(t, "hello"), monitorFlags: []string{"-e", "=x"}}
		},
	},
	{
		name: "no-image", hints: []string{"image", "usage"},
		spec: func(t *testing.T) runSpec { return runSpec{} },
	},
}

func TestBadInput(t *testing.T) {
	for _, c := range badInputCases {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range monitorModes() {
				t.Run(m.name, func(t *testing.T) {
					if why, ok := c.skip[m.name]; ok {
						t.Skip(why)
					}
					selected(m.name)(t)
					mustHaveMorgana(t)
					if c.needPlatform {
						m.ready(t)
					}
					r := runIn(t, m, c.spec(t))
					checkMonitorError(t, r, c.hints...)
				})
			}
		})
	}
}

// checkMonitorError checks that the monitor refused to run with status 125 and one line on
// stderr naming one of hints.
func checkMonitorError(t *testing.T, r result, hints ...string) {
	t.Helper()
	if r.exit != 125 {
		t.Errorf("exit status %d, want 125", r.exit)
	}
	if r.stdout != "" {
		t.Errorf("stdout is not empty: %q", tail(r.stdout, 500))
	}
	msg := strings.TrimRight(r.stderr, "\n")
	switch {
	case msg == "":
		t.Errorf("stderr is empty, want one line saying what is wrong")
	case strings.Contains(msg, "\n"):
		t.Errorf("stderr has %d lines, want one:\n%s", strings.Count(msg, "\n")+1, tail(msg, 2000))
	case !containsAnyFold(msg, hints):
		t.Errorf("stderr %q names none of %q", msg, hints)
	default:
		t.Logf("stderr: %s", msg)
	}
}

func containsAnyFold(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(strings.ToLower(s), strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// makeFIFO returns a new named pipe that nothing writes to.
func makeFIFO(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dynamicELF returns the host's /bin/true, checked to be a dynamically linked x86-64 ELF.
func dynamicELF(t *testing.T) string {
	t.Helper()
	const p = "/bin/true"
	f, err := elf.Open(p)
	if err != nil {
		t.Skipf("no %s to use as a dynamically linked ELF: %v", p, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
		t.Skipf("%s is not a dynamically linked x86-64 ELF here", p)
	}
	return p
}

// buildStaticCgo builds a small cgo program linked statically: a static x86-64 ELF that is
// still not a pure-Go program (the C runtime owns its threads and TLS), which morgana refuses.
func buildStaticCgo(t *testing.T) string {
	t.Helper()
	cc := testenv.MustHaveCommand(t, "gcc")
	path, err := cachedBuild("cgo-static", func() (string, error) {
		dir := filepath.Join(workDir, "cgo-static")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		const src = "package main\n\n// int answer(void) { return 42; }\nimport \"C\"\n\nfunc main() { println(C.answer()) }\n"
		for name, content := range map[string]string{"go.mod": "module cgostatic\n\ngo 1.22\n", "main.go": src} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				return "", err
			}
		}
		out := filepath.Join(dir, "cgo-static")
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, "-ldflags=-linkmode=external -extldflags=-static", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH=amd64", "CC="+cc, "GOFLAGS=-mod=mod")
		return out, run(cmd)
	})
	if err != nil {
		t.Skipf("cannot build a static cgo program here (no static libc?): %v", err)
	}
	return path
}

var noKVM = map[string]string{"unix": "unix mode does not use KVM", "spt": "spt mode does not use KVM"}
