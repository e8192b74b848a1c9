package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
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
	stdin        []byte   // the standard input; nil for none (end of file at once)

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

// capWriter keeps what a process writes, up to maxOutput. It may be read while the process
// runs (see running.waitFor); wrote, if not nil, gets a token after each write.
type capWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
	wrote   chan struct{}
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n := len(p)
	if room := maxOutput - w.buf.Len(); len(p) > room {
		w.dropped += len(p) - room
		p = p[:room]
	}
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, nil
}

func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped > 0 {
		return w.buf.String() + fmt.Sprintf("\n[... %d more bytes dropped]", w.dropped)
	}
	return w.buf.String()
}

// contains reports whether what was written so far holds s.
func (w *capWriter) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.buf.Bytes(), []byte(s))
}

// runCmd runs the command that newCmd makes for a context, in a process group of its own, and
// kills the whole group when timeout passes: a hang fails t, with the output so far, and never
// hangs go test. When t fails, for whatever reason, the run's command line and the tails of its
// output are logged.
func runCmd(t testing.TB, timeout time.Duration, newCmd func(context.Context) *exec.Cmd) result {
	t.Helper()
	return startCmd(t, timeout, newCmd).wait()
}

// running is a command that startCmd started and wait has not yet waited for: what a test
// uses to act on a run while it runs (waitFor a line, then signal it).
type running struct {
	t       testing.TB
	cmd     *exec.Cmd
	line    string // the command line, for messages
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc

	stdout, stderr *capWriter
	start          time.Time

	done chan struct{} // closed once the process has been waited for; then:
	err  error         // what Wait returned
	end  time.Time     // when Wait returned
}

// startCmd is runCmd's first half: it starts the command under the same rules (own process
// group, the group killed at timeout, output logged if t fails) and returns at once. Whatever
// happens to the test, the process is killed and reaped by t's cleanup at the latest.
func startCmd(t testing.TB, timeout time.Duration, newCmd func(context.Context) *exec.Cmd) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := newCmd(ctx)
	r := &running{
		t: t, cmd: cmd, line: quoteArgs(cmd.Args), timeout: timeout, ctx: ctx, cancel: cancel,
		stdout: &capWriter{wrote: make(chan struct{}, 1)}, stderr: &capWriter{wrote: make(chan struct{}, 1)},
		done: make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild that keeps the pipes open must not keep Wait waiting.
	cmd.WaitDelay = 5 * time.Second

	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("run %s: %v", r.line, err)
	}
	go func() {
		r.err = cmd.Wait()
		r.end = time.Now()
		close(r.done)
	}()
	t.Cleanup(func() {
		// A test that ended between start and wait (a Fatalf) leaves no process behind.
		cancel()
		<-r.done
		if t.Failed() {
			stdout, stderr := r.stdout.String(), r.stderr.String()
			t.Logf("run: %s\n--- stdout (%d bytes) ---\n%s\n--- stderr (%d bytes) ---\n%s",
				r.line, len(stdout), headTail(stdout, 3000), len(stderr), headTail(stderr, 3000))
		}
	})
	return r
}

// waitFor waits until the command's stdout holds s and reports whether it did: false when the
// command ended first, or was killed at its timeout (wait then says which).
func (r *running) waitFor(s string) bool { return r.waitIn(r.stdout, s) }

// waitForStderr is waitFor on stderr, where the examples log.
func (r *running) waitForStderr(s string) bool { return r.waitIn(r.stderr, s) }

func (r *running) waitIn(w *capWriter, s string) bool {
	for !w.contains(s) {
		select {
		case <-w.wrote:
		case <-r.done:
			return w.contains(s)
		}
	}
	return true
}

// signal sends sig to the process started, not to its group: natively the guest itself (the
// wrappers prlimit and taskset exec it), in a monitor mode the monitor.
func (r *running) signal(sig syscall.Signal) error {
	select {
	case <-r.done:
		return fmt.Errorf("signal %v: the process has ended", sig)
	default:
	}
	return r.cmd.Process.Signal(sig)
}

// wait is runCmd's second half: it waits for the command to end and returns what it left.
func (r *running) wait() result {
	t := r.t
	t.Helper()
	<-r.done
	defer r.cancel()
	res := result{stdout: r.stdout.String(), stderr: r.stderr.String(), start: r.start, duration: r.end.Sub(r.start)}
	if r.ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("TIMEOUT: killed after %v: %s", r.timeout, r.line)
	}
	var exitErr *exec.ExitError
	switch {
	case r.err == nil:
		res.exit = 0
	case errors.As(r.err, &exitErr):
		ws := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			res.exit = 128 + int(ws.Signal())
		} else {
			res.exit = ws.ExitStatus()
		}
	default:
		t.Fatalf("run %s: %v", r.line, r.err)
	}
	if _, bench := t.(*testing.B); !bench { // a benchmark would log every iteration
		t.Logf("%s: exit %d in %v", r.line, res.exit, res.duration.Round(time.Millisecond))
	}
	return res
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
