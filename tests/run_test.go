package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runSpec is one run of a guest program, independent of the mode that runs it.
type runSpec struct {
	image string   // path of the static ELF, as the guest's os.Args[0] will see it
	args  []string // the guest's os.Args[1:]
	env   []string // the guest's whole environment, KEY=VALUE

	mem  string // --mem; "" for the monitor's default
	cpus int    // --cpus; 0 for the monitor's default (1)

	monitorFlags []string // more flags for morgana run (monitor modes only)
	monitorEnv   []string // more environment for the monitor process (not the guest)
	dir          string   // working directory; "" for an empty temporary directory

	// nativeLimitAS, when non-zero, limits the address space of a native run (prlimit --as):
	// the nearest native stand-in for --mem, for the cases that must run out of memory.
	nativeLimitAS int64

	timeout time.Duration // hard limit for the whole run; 0 for defaultTimeout
}

const defaultTimeout = 60 * time.Second

// result is what a run left behind.
type result struct {
	stdout, stderr string
	// exit is the exit status, or 128+N when the process was killed by signal N, as a shell
	// reports it and as morgana reports a guest killed by a signal.
	exit     int
	start    time.Time // when the process was started
	duration time.Duration
}

// maxOutput bounds what is kept of each of stdout and stderr, so that a runaway guest cannot
// eat the host's memory; the rest is counted and dropped.
const maxOutput = 64 << 20

type capWriter struct {
	buf     bytes.Buffer
	dropped int
}

func (w *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxOutput - w.buf.Len(); len(p) > room {
		w.dropped += len(p) - room
		p = p[:room]
	}
	w.buf.Write(p)
	return n, nil
}

func (w *capWriter) String() string {
	if w.dropped > 0 {
		return w.buf.String() + fmt.Sprintf("\n[... %d more bytes dropped]", w.dropped)
	}
	return w.buf.String()
}

// runCmd runs the command that newCmd makes for a context, in a process group of its own, and
// kills the whole group when timeout passes: a hang fails t, with the output so far, and never
// hangs go test. When t fails, for whatever reason, the run's command line and the tails of its
// output are logged.
func runCmd(t testing.TB, timeout time.Duration, newCmd func(context.Context) *exec.Cmd) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := newCmd(ctx)
	var stdout, stderr capWriter
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild that keeps the pipes open must not keep Wait waiting.
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), start: start, duration: time.Since(start)}
	line := quoteArgs(cmd.Args)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("run: %s\n--- stdout (%d bytes) ---\n%s\n--- stderr (%d bytes) ---\n%s",
				line, len(r.stdout), headTail(r.stdout, 3000), len(r.stderr), headTail(r.stderr, 3000))
		}
	})
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("TIMEOUT: killed after %v: %s", timeout, line)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		r.exit = 0
	case errors.As(err, &exitErr):
		ws := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.exit = 128 + int(ws.Signal())
		} else {
			r.exit = ws.ExitStatus()
		}
	default:
		t.Fatalf("run %s: %v", line, err)
	}
	if _, bench := t.(*testing.B); !bench { // a benchmark would log every iteration
		t.Logf("%s: exit %d in %v", line, r.exit, r.duration.Round(time.Millisecond))
	}
	return r
}

// quoteArgs renders a command line for a shell.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// headTail returns s, or about its first and last n/2 bytes when it is longer than n: where a
// Go program's output is long, the news is at one end or the other (a traceback starts with
// the panic, a test's output ends with its verdict).
func headTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-n) + s[len(s)-n/2:]
}

// tail returns about the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}
