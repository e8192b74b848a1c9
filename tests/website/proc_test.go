package website

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running website.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error // of Wait, once done is closed

	http, https string // host:port of the listeners
}

// startWebsite runs argv (the website, or morgana running it) and waits
// until it is ready. The process is killed at the end of the test if it is
// still running.
func startWebsite(t *testing.T, argv ...string) *proc {
	t.Helper()
	return startWebsiteStdout(t, nil, argv...)
}

// startWebsiteStdout is startWebsite with the website's stdout going to
// stdout instead of p.stdout, when it is not nil.
func startWebsiteStdout(t *testing.T, stdout io.Writer, argv ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("%s\nstderr:\n%s\nstdout:\n%s", strings.Join(argv, " "), p.stderr.String(), p.stdout.String())
		}
	})
	p.waitLog(t, "msg=ready", 30*time.Second)
	for _, m := range listening.FindAllStringSubmatch(p.stderr.String(), -1) {
		switch m[1] {
		case "http":
			p.http = m[2]
		case "https":
			p.https = m[2]
		}
	}
	return p
}

var listening = regexp.MustCompile(`msg=listening proto=(https?) addr=(\S+)`)

// waitLog waits for a line of the log containing s, and returns it.
func (p *proc) waitLog(t *testing.T, s string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(line, s) {
				return line
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the website exited (%v) before logging %q", p.err, s)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log after %v", s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAccessLog waits until cond holds of what the website has written on
// stdout, its access log, and returns that. The website buffers the log:
// a line is written --access-log-flush (1s by default) after its request
// at the latest, so a test that checks the log right after its requests
// must wait.
func (p *proc) waitAccessLog(t *testing.T, cond func(log string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := p.stdout.String()
		if cond(log) {
			return log
		}
		if time.Now().After(deadline) {
			t.Errorf("the access log is still not as expected after 10s")
			return log
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containsAll returns a condition of waitAccessLog: every one of want is
// in the log.
func containsAll(want ...string) func(string) bool {
	return func(log string) bool {
		for _, w := range want {
			if !strings.Contains(log, w) {
				return false
			}
		}
		return true
	}
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("still running %v later", timeout)
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	}
	t.Fatal(p.err)
	return -1
}

// args are the flags every test starts the website with: loopback only,
// ports chosen by the system.
func args(extra ...string) []string {
	return append([]string{"--bind", "127.0.0.1", "--port", "0"}, extra...)
}

func (p *proc) url(path string) string { return fmt.Sprintf("http://%s%s", p.http, path) }

// siteFile returns a file of the embedded site, as committed.
func siteFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(moduleRoot + "/examples/website/site/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
