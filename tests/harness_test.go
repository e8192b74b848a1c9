package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// These tests check the harness itself, with sh as the program under test: a test that hangs
// must fail with what it printed, and leave no process behind.

// recorder stands in for a testing.TB whose failures are the point: Fatalf records and ends the
// goroutine as the real one does, and cleanups run when the test says.
type recorder struct {
	testing.TB
	fatal    string
	logs     []string
	cleanups []func()
}

func (r *recorder) Helper()                   {}
func (r *recorder) Failed() bool              { return r.fatal != "" }
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Logf(f string, a ...any)   { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *recorder) Errorf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = fmt.Sprintf(f, a...)
	runtime.Goexit()
}

// runRecorded runs runCmd with a recorder in a goroutine of its own (Fatalf ends it) and runs
// the recorded cleanups.
func runRecorded(t *testing.T, timeout time.Duration, argv ...string) (*recorder, result) {
	rec := &recorder{TB: t}
	var r result
	done := make(chan struct{})
	go func() {
		defer close(done)
		r = runCmd(rec, timeout, func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, argv[0], argv[1:]...) })
	}()
	select {
	case <-done:
	case <-time.After(timeout + 30*time.Second):
		t.Fatalf("runCmd did not return within %v of its timeout", 30*time.Second)
	}
	for _, f := range rec.cleanups {
		f()
	}
	return rec, r
}

func TestRunnerKillsHangs(t *testing.T) {
	sh := testenv.MustHaveCommand(t, "sh")
	// The background sleep is a grandchild that holds stdout open: the whole process group
	// must die, and Wait must not wait for the pipe.
	rec, _ := runRecorded(t, time.Second, sh, "-c", "echo partial output; sleep 600 & echo bg=$!; sleep 600")
	if !strings.Contains(rec.fatal, "TIMEOUT") {
		t.Errorf("a hang did not fail with TIMEOUT (fatal %q)", rec.fatal)
	}
	logs := strings.Join(rec.logs, "\n")
	if !strings.Contains(logs, "partial output") {
		t.Errorf("the partial output was not logged: %q", logs)
	}
	m := regexp.MustCompile(`bg=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no bg= line in %q", logs)
	}
	pid, _ := strconv.Atoi(m[1])
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the background process %d outlived the run", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie (whose reaping is up to whatever
// adopted it).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestRunnerExitStatus(t *testing.T) {
	sh := testenv.MustHaveCommand(t, "sh")
	for _, c := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"exit 255", 255},
		{"kill -ABRT $$", 128 + 6},
		{"kill -KILL $$", 128 + 9},
	} {
		rec, r := runRecorded(t, 10*time.Second, sh, "-c", c.script)
		if rec.fatal != "" || r.exit != c.want {
			t.Errorf("sh -c %q: exit %d (fatal %q), want %d", c.script, r.exit, rec.fatal, c.want)
		}
	}
}

func TestRunnerCapsOutput(t *testing.T) {
	var w capWriter
	chunk := make([]byte, 1<<20)
	for range maxOutput>>20 + 3 {
		if n, err := w.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if w.buf.Len() != maxOutput || w.dropped != 3<<20 {
		t.Errorf("kept %d, dropped %d; want %d and %d", w.buf.Len(), w.dropped, maxOutput, 3<<20)
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"/bin/x", "plain", "with space", "", "it's", "--a=b,c"})
	want := `/bin/x plain 'with space' '' 'it'\''s' --a=b,c`
	if got != want {
		t.Errorf("quoteArgs = %s, want %s", got, want)
	}
}

func TestRunnerWaitForAndSignal(t *testing.T) {
	sh := testenv.MustHaveCommand(t, "sh")
	start := func(script string) *running {
		return startCmd(t, 30*time.Second, func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, sh, "-c", script) })
	}

	// The signal goes to the process started, once it says it is ready, and not before: a
	// TERM before the trap is set would kill sh with status 143.
	r := start(`sleep 0.2; trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	if !r.waitFor("ready\n") {
		t.Fatalf("waitFor did not see ready")
	}
	if err := r.signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal: %v", err)
	}
	if res := r.wait(); res.exit != 0 || !strings.Contains(res.stdout, "got TERM") {
		t.Errorf("exit %d, stdout %q; want 0 and the trap's message", res.exit, res.stdout)
	}
	if err := r.signal(syscall.SIGTERM); err == nil {
		t.Errorf("signal after the end did not fail")
	}

	// waitFor gives up when the process ends without the line.
	r = start(`echo something else`)
	if r.waitFor("ready\n") {
		t.Errorf("waitFor saw a line that was never printed")
	}
	if res := r.wait(); res.exit != 0 {
		t.Errorf("exit %d, want 0", res.exit)
	}
}

func TestRunnerAbandonedRun(t *testing.T) {
	sh := testenv.MustHaveCommand(t, "sh")
	// A test that fails between startCmd and wait, long before the run's timeout: its cleanup
	// must kill the process group at once and log the output.
	rec := &recorder{TB: t}
	done := make(chan struct{})
	var pid int
	go func() {
		defer close(done)
		r := startCmd(rec, time.Hour, func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, sh, "-c", "echo partial output; sleep 600 & echo bg=$!; sleep 600")
		})
		pid = r.cmd.Process.Pid
		if !r.waitFor("bg=") {
			rec.Errorf("waitFor did not see bg=")
		}
		rec.Fatalf("the test gave up")
	}()
	<-done
	start := time.Now()
	for _, f := range rec.cleanups {
		f()
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the cleanups took %v", d)
	}
	logs := strings.Join(rec.logs, "\n")
	if !strings.Contains(logs, "partial output") {
		t.Errorf("the output of the abandoned run was not logged: %q", logs)
	}
	m := regexp.MustCompile(`bg=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no bg= line in %q", logs)
	}
	bg, _ := strconv.Atoi(m[1])
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) || alive(bg) {
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned run (sh %d, background sleep %d) outlived its test", pid, bg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunnerWaitForTimesOut(t *testing.T) {
	sh := testenv.MustHaveCommand(t, "sh")
	// A guest that never says it is ready: waitFor returns at the run's timeout, and wait
	// reports the TIMEOUT.
	rec := &recorder{TB: t}
	done := make(chan struct{})
	var saw bool
	go func() {
		defer close(done)
		r := startCmd(rec, time.Second, func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, sh, "-c", "sleep 600") })
		saw = r.waitFor("ready")
		r.wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("waitFor and wait did not return within 30s of a 1s timeout")
	}
	for _, f := range rec.cleanups {
		f()
	}
	if saw || !strings.Contains(rec.fatal, "TIMEOUT") {
		t.Errorf("waitFor = %v, fatal %q; want false and a TIMEOUT", saw, rec.fatal)
	}
}
