package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables read here; the same names as the rest of the project's tests use.
const (
	kvmDeviceEnv  = "MORGANA_KVM_DEVICE"  // the KVM device, for the monitor and the probe alike
	requireKVMEnv = "MORGANA_REQUIRE_KVM" // 1: an unusable KVM fails the hvt benchmarks instead of skipping them
)

// runTimeout bounds one process run; the longest (a syscall batch in a VM) takes a few seconds.
const runTimeout = 2 * time.Minute

// workDir is this run's temporary directory for the binaries; TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	var err error
	if workDir, err = os.MkdirTemp("", "morgana-bench-"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// binaries are built once per run, on first use, so that `go test ./...` without -bench costs
// nothing here.
type binaries struct {
	morgana string
	guests  map[string]string // guest name -> static ELF
}

var build = sync.OnceValues(func() (*binaries, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("the guests are linux/amd64 programs; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bins := &binaries{morgana: filepath.Join(workDir, "morgana"), guests: map[string]string{}}
	if err := goBuild(root, []string{"CGO_ENABLED=0"}, bins.morgana, "./cmd/morgana"); err != nil {
		return nil, err
	}
	// Static guests, as `morgana run` wants them (and as the native runs then use them too).
	guestEnv := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}
	for _, name := range []string{"hello", "syscall", "timenow"} {
		out := filepath.Join(workDir, name)
		if err := goBuild(root, guestEnv, out, "./bench/guests/"+name); err != nil {
			return nil, err
		}
		bins.guests[name] = out
	}
	return bins, nil
})

func goBuild(dir string, env []string, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot is the directory of the go.mod around the package directory go test runs us in.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// mustBuild returns the binaries, or fails b.
func mustBuild(b *testing.B) *binaries {
	b.Helper()
	bins, err := build()
	if err != nil {
		b.Fatalf("building the benchmark binaries: %v", err)
	}
	return bins
}

// kvmDevice is the device the monitor will open.
func kvmDevice() string {
	if p := os.Getenv(kvmDeviceEnv); p != "" {
		return p
	}
	return "/dev/kvm"
}

// probeKVM reports why KVM cannot be used: the device must open read-write and answer
// KVM_GET_API_VERSION (_IO(0xAE, 0)) with 12, the only version Linux has ever had.
var probeKVM = sync.OnceValue(func() error {
	path := kvmDevice()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	v, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), 0xAE00, 0)
	if errno != 0 {
		return fmt.Errorf("ioctl KVM_GET_API_VERSION on %s: %v", path, errno)
	}
	if v != 12 {
		return fmt.Errorf("%s answers KVM API version %d, want 12", path, v)
	}
	return nil
})

// A mode is one column of the comparison: how a guest ELF is started.
type mode struct {
	name string
	// command returns the argv that runs the ELF with args; verbose asks the monitor for its
	// statistics on stderr (native has none).
	command func(b *testing.B, elf string, verbose bool, args ...string) []string
	// env is the environment of the process started: empty natively (a morgana guest gets
	// none either); the monitor gets $MORGANA_KVM_DEVICE, if set, and its guest nothing.
	env []string
}

var modes = []mode{
	{name: "native", env: []string{}, command: func(b *testing.B, elf string, _ bool, args ...string) []string {
		return append([]string{elf}, args...)
	}},
	{name: "hvt", command: func(b *testing.B, elf string, verbose bool, args ...string) []string {
		b.Helper()
		if err := probeKVM(); err != nil {
			if os.Getenv(requireKVMEnv) == "1" {
				b.Fatalf("KVM is not usable: %v (and %s=1)", err, requireKVMEnv)
			}
			b.Skipf("skipping the hvt benchmark: KVM is not usable: %v (set %s=1 to fail instead)", err, requireKVMEnv)
		}
		argv := []string{mustBuild(b).morgana, "run"}
		if verbose {
			argv = append(argv, "--verbose")
		}
		argv = append(argv, elf)
		return append(argv, args...)
	}, env: monitorEnv()},
}

func monitorEnv() []string {
	if p := os.Getenv(kvmDeviceEnv); p != "" {
		return []string{kvmDeviceEnv + "=" + p}
	}
	return []string{}
}

// result is what one process run printed.
type result struct {
	stdout, stderr string
	elapsed        time.Duration // fork/exec to exit, as the benchmark saw it
}

// run starts argv with m's environment and fails b unless it exits with status 0.
func (m mode) run(b *testing.B, argv []string) result {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = m.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v (after %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), err, elapsed, stdout.Bytes(), head(stderr.String(), 20))
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), elapsed: elapsed}
}

// head is the first n lines of s (a crash's stack dump of every goroutine says little more).
func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("[... %d more lines]\n", len(lines)-n)
}

var nsPerCallRE = regexp.MustCompile(`(?m)^ns/call=([0-9.]+) calls=(\d+)`)

// nsPerCall parses the "ns/call=X calls=N" line of the syscall and timenow guests.
func nsPerCall(b testing.TB, out string, calls int) float64 {
	b.Helper()
	m := nsPerCallRE.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no ns/call line in the guest's output:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[2]); n != calls {
		b.Fatalf("the guest made %d calls, want %d", n, calls)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		b.Fatalf("ns/call %q: %v", m[1], err)
	}
	return v
}

// vmStats is what `morgana run --verbose` logs at exit.
type vmStats struct {
	exits, syscalls uint64
	setup, elapsed  time.Duration     // from hvt.New to the guest's start, and to its exit
	calls           map[string]call   // the top system calls, by name
	top             string            // the top-calls line as logged
	raw             map[string]string // every key=value of the exit line
}

type call struct {
	n    uint64
	time time.Duration // in the monitor
}

var (
	kvRE   = regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)
	callRE = regexp.MustCompile(`(\w+)×(\d+)\(([^)]+)\)`)
)

// parseVerbose reads the msg=boot, msg=exit and msg=syscalls lines of --verbose output.
func parseVerbose(b testing.TB, stderr string) vmStats {
	b.Helper()
	s := vmStats{calls: map[string]call{}, raw: map[string]string{}}
	var sawExit bool
	for _, line := range strings.Split(stderr, "\n") {
		kv := map[string]string{}
		for _, m := range kvRE.FindAllStringSubmatch(line, -1) {
			kv[m[1]] = strings.Trim(m[2], `"`)
		}
		switch kv["msg"] {
		case "boot":
			s.setup, _ = time.ParseDuration(kv["setup"])
		case "exit":
			sawExit = true
			s.raw = kv
			s.exits, _ = strconv.ParseUint(kv["exits"], 10, 64)
			s.syscalls, _ = strconv.ParseUint(kv["syscalls"], 10, 64)
			s.elapsed, _ = time.ParseDuration(kv["elapsed"])
		case "syscalls":
			s.top = kv["top"]
			for _, m := range callRE.FindAllStringSubmatch(s.top, -1) {
				n, _ := strconv.ParseUint(m[2], 10, 64)
				d, _ := time.ParseDuration(m[3])
				s.calls[m[1]] = call{n: n, time: d}
			}
		}
	}
	if !sawExit || s.exits == 0 {
		b.Fatalf("no msg=exit line with exits=N in the --verbose output:\n%s", stderr)
	}
	return s
}

// median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	if n := len(ds); n%2 == 0 {
		return (ds[n/2-1] + ds[n/2]) / 2
	}
	return ds[len(ds)/2]
}

// logOnce logs a line once per benchmark name and run (benchmark functions are called once per
// b.N tried; their log lines are always printed).
var logged sync.Map

func logOnce(b *testing.B, format string, args ...any) {
	b.Helper()
	if _, dup := logged.LoadOrStore(b.Name(), true); !dup {
		b.Logf(format, args...)
	}
}

func TestParseVerbose(t *testing.T) {
	const stderr = `time=2026-11-23T20:37:59.766Z level=INFO msg=kvm platform=PVM mem=256M cpus=1
time=2026-11-23T20:37:59.769Z level=INFO msg=boot image=/tmp/bh/hello setup=6.129338ms
time=2026-11-23T20:37:59.784Z level=INFO msg=exit status=0 elapsed=21.811305ms exits=210 syscalls=208 signals=0 faults=2 mem_used=10496K
time=2026-11-23T20:37:59.784Z level=INFO msg=syscalls top="rt_sigaction×114(96µs) prctl×22(6µs) mmap×22(262µs) futex×7(2.44ms)"
`
	s := parseVerbose(t, stderr)
	if s.exits != 210 || s.syscalls != 208 || s.setup != 6129338 || s.elapsed != 21811305 {
		t.Errorf("exits=%d syscalls=%d setup=%v elapsed=%v, want 210 208 6.129338ms 21.811305ms", s.exits, s.syscalls, s.setup, s.elapsed)
	}
	if c := s.calls["futex"]; c.n != 7 || c.time != 2440*time.Microsecond {
		t.Errorf("futex = %+v, want 7 calls in 2.44ms", c)
	}
	if c := s.calls["rt_sigaction"]; c.n != 114 || c.time != 96*time.Microsecond {
		t.Errorf("rt_sigaction = %+v, want 114 calls in 96µs", c)
	}
	if s.raw["platform"] != "" || s.raw["status"] != "0" {
		t.Errorf("raw exit line = %v", s.raw)
	}
}

func TestNsPerCall(t *testing.T) {
	if got := nsPerCall(t, "ns/call=31234.50 calls=1000\n", 1000); got != 31234.5 {
		t.Errorf("nsPerCall = %v, want 31234.5", got)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3}, 3},
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
	} {
		if got := median(slices.Clone(c.in)); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
