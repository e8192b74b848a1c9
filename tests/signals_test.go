package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// signalWhenReady returns a guestCase.during that waits for the guest's "ready" line and then
// sends sig to the process the test started: natively the guest, in a monitor mode the monitor,
// which must pass it on.
func signalWhenReady(sig syscall.Signal) func(t *testing.T, r *running) {
	return func(t *testing.T, r *running) {
		t.Helper()
		if !r.waitFor("ready\n") {
			t.Errorf("the guest ended (or timed out) before it printed ready; %v not sent", sig)
			return
		}
		if err := r.signal(sig); err != nil {
			t.Errorf("sending %v: %v", sig, err)
		}
	}
}

// checkCrash checks, in every mode, that the crash guest got as far as the crash and that the
// fault was not the Go runtime's to handle: a SIGSEGV the runtime handled would have printed a
// panic or "[signal SIGSEGV ...]" and exited 2.
func checkCrash(t *testing.T, _ mode, _ runSpec, r result) {
	t.Helper()
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "FAIL") {
			t.Errorf("guest reported %s", l)
		}
	}
	for _, bad := range []string{"panic:", "[signal ", "goroutine "} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr holds %q: the Go runtime handled the fault, not the default action", bad)
		}
	}
}

var (
	crashThread = regexp.MustCompile(`(?m)^\s*thread (\d+) at (0x[0-9a-f]+) (\S+)\+0x[0-9a-f]+(?: \((.+):(\d+)\))?$`)
	crashReg    = func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `\s+(0x[0-9a-f]+)\b`) }
	crashRIP    = crashReg("rip")
	crashRSP    = crashReg("rsp")
)

// checkCrashReport checks the monitor's report of the crash guest's death (see
// crashReportProblems).
func checkCrashReport(t *testing.T, _ runSpec, r result) {
	t.Helper()
	for _, p := range crashReportProblems(r.stderr, crashLine(t)) {
		t.Error(p)
	}
}

// crashReportProblems returns what is wrong with a crash report on stderr: it must be one
// report, its first line naming the signal and the faulting address (the guest reads 8 bytes
// past nil), then the faulting thread's PC in main.crashHere at the guest's crash line (line),
// and the registers, rip being that PC.
func crashReportProblems(stderr string, line int) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var heads []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "morgana:") {
			heads = append(heads, l)
		}
	}
	if len(heads) != 1 {
		bad("stderr holds %d lines starting with \"morgana:\", want one report: %q", len(heads), heads)
		return problems
	}
	if !strings.HasPrefix(heads[0], "morgana: guest killed by SIGSEGV") {
		bad("the report starts %q, want %q", heads[0], "morgana: guest killed by SIGSEGV")
	}
	if !regexp.MustCompile(`\b0x8\b`).MatchString(heads[0]) {
		bad("the report's first line %q does not give the faulting address 0x8", heads[0])
	}

	m := crashThread.FindStringSubmatch(stderr)
	if m == nil {
		bad("no \"thread N at 0x... FUNCTION+0x...\" line in the report")
		return problems
	}
	if m[3] != "main.crashHere" {
		bad("the report places the fault in %s, want main.crashHere", m[3])
	}
	switch {
	case m[4] == "":
		bad("the thread line has no file:line, though the image has a line table")
	case !strings.HasSuffix(filepath.ToSlash(m[4]), "tests/guests/crash/main.go") || m[5] != strconv.Itoa(line):
		bad("the fault is placed at %s:%s, want tests/guests/crash/main.go:%d", m[4], m[5], line)
	}

	rip := crashRIP.FindStringSubmatch(stderr)
	rsp := crashRSP.FindStringSubmatch(stderr)
	if rip == nil || rsp == nil {
		bad("the report lacks the registers rip and rsp")
		return problems
	}
	pc, _ := strconv.ParseUint(m[2], 0, 64)
	if v, _ := strconv.ParseUint(rip[1], 0, 64); v != pc {
		bad("rip %s is not the thread's PC %s", rip[1], m[2])
	}
	if v, _ := strconv.ParseUint(rsp[1], 0, 64); v == 0 {
		bad("rsp is 0")
	}
	return problems
}

// TestCrashReportProblems checks the crash-report check itself: a good report passes, and each
// way of being wrong is caught.
func TestCrashReportProblems(t *testing.T) {
	const good = `morgana: guest killed by SIGSEGV: #PF page fault at 0x8
  thread 1 at 0x4a0080 main.crashHere+0x0 (/src/tests/guests/crash/main.go:73)
  rax    0x0000000000000000  rbx    0x0000000000000000  rcx    0x0000000000000000  rdx    0x0000003f6c8cbb01a0
  rsi    0x0000000000000000  rdi    0x000000000000000c  rbp    0x0000003f6c8cba8f38  rsp    0x0000003f6c8cba8dd0
  rip    0x00000000004a0080  rflags 0x0000000000010202
`
	if p := crashReportProblems(good, 73); len(p) != 0 {
		t.Errorf("a good report has problems: %q", p)
	}
	for _, c := range []struct{ name, old, new string }{
		{"no report", good, ""},
		{"two reports", "morgana: guest", "morgana: unsupported system call 999 (ENOSYS)\nmorgana: guest"},
		{"another signal", "SIGSEGV", "SIGBUS"},
		{"crashed, not killed by", "guest killed by SIGSEGV", "guest crashed"},
		{"no address", "at 0x8", "somewhere"},
		{"another function", "main.crashHere+", "main.main+"},
		{"no thread line", "thread 1 at", "thread 1 near"},
		{"no file:line", " (/src/tests/guests/crash/main.go:73)", ""},
		{"another line", "main.go:73", "main.go:74"},
		{"another file", "crash/main.go", "crash/other.go"},
		{"rip elsewhere", "rip    0x00000000004a0080", "rip    0x00000000004a0081"},
		{"no rsp", "rsp    0x0000003f6c8cba8dd0", ""},
		{"rsp 0", "rsp    0x0000003f6c8cba8dd0", "rsp    0x0000000000000000"},
	} {
		bad := strings.Replace(good, c.old, c.new, 1)
		if bad == good {
			t.Fatalf("%s: the mutation changed nothing", c.name)
		}
		if p := crashReportProblems(bad, 73); len(p) == 0 {
			t.Errorf("%s: no problem found in\n%s", c.name, bad)
		}
	}
}

// crashLine returns the line of tests/guests/crash/main.go that faults, marked by a comment.
func crashLine(t *testing.T) int {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "tests", "guests", "crash", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "// the crash line") && !strings.HasPrefix(strings.TrimSpace(l), "//") {
			return i + 1
		}
	}
	t.Fatalf("tests/guests/crash/main.go has no line marked \"// the crash line\"")
	return 0
}
