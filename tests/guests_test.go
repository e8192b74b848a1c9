package tests

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/abi"
)

// A guestCase runs one guest program from tests/guests in every mode, and checks the outcome
// the same way in each: the native run proves the program and the expectations right.
type guestCase struct {
	name  string
	guest string   // directory under tests/guests
	args  []string // the guest's os.Args[1:]
	env   []string // the guest's whole environment
	mem   string   // --mem
	cpus  int      // --cpus (natively, an affinity mask of as many CPUs)
	stdin []byte   // the standard input (nil: none)

	nativeLimitAS int64             // see runSpec
	timeout       time.Duration     // per run; 0 for defaultTimeout
	skip          map[string]string // mode name -> why this case does not run in it

	exit   int      // expected exit status
	pass   bool     // stdout must end with the guest's "PASS" (see tests/guests/internal/check)
	stdout []string // substrings stdout must hold
	stderr []string // substrings stderr must hold
	// sameStdout: stdout, less its "info:" lines (measurements), must equal the native run's.
	sameStdout bool
	// check, if set, checks more.
	check func(t *testing.T, m mode, s runSpec, r result)
	// monitorCheck, if set, checks more in hvt, the mode with a monitor between guest and
	// host (what the monitor itself prints); spt and unix have none.
	monitorCheck func(t *testing.T, s runSpec, r result)
	// during, if set, acts on the run while it runs (signal it once it is ready), before the
	// test waits for it to end.
	during func(t *testing.T, r *running)
}

var guestCases = []guestCase{
	{name: "thread-exit-and-reuse", guest: "threadexit", cpus: 2, pass: true},
	// rt_sigaction, served on PVM by the syscall stub: reads, sets, errors, several threads at
	// once, and signals delivered by what it set.
	{name: "sigaction", guest: "sigaction", cpus: 2, pass: true, sameStdout: true},
	{
		name: "sigaction-default", guest: "sigaction", args: []string{"default"}, exit: 128 + 12,
		stdout: []string{"ok: about to raise SIGUSR2 at SIG_DFL"}, sameStdout: true,
	},
	{
		// What a unikernel must not do is refused, visibly, in the VM...
		name: "forbidden-refused", guest: "forbidden", args: []string{"-want", "refused"}, pass: true,
		skip: map[string]string{"native": "a host process may do these things", "unix": "unix mode is a plain host process"},
	},
	{
		// ...and is allowed to a host process: the difference is the sandbox.
		name: "forbidden-allowed", guest: "forbidden", args: []string{"-want", "allowed"}, pass: true,
		skip: map[string]string{"hvt": "the VM refuses these things", "spt": "the seccomp filter refuses these things"},
	},
	{
		name:  "hello",
		guest: "hello",
		// Arguments after IMAGE that look like morgana's own flags belong to the guest.
		args:       []string{"plain", "with space", "", "ünïcödé ✓", "--mem", "1G", "-e", "X=Y", "--verbose"},
		env:        []string{"FOO=bar", "EMPTY=", "WITH_EQUALS=a=b=c", "PATH=/nowhere"},
		stdout:     []string{"hello on stdout"},
		stderr:     []string{"hello on stderr"},
		sameStdout: true,
		check:      checkHello,
	},
	{name: "hello-no-env", guest: "hello", stdout: []string{"hello on stdout"}, sameStdout: true, check: checkHello},
	// The least memory the monitor accepts for a small image boots it in every mode (spt's
	// RLIMIT_DATA once made the runtime die at start-up under some 48M).
	{name: "hello-small-mem", guest: "hello", mem: "16M", stdout: []string{"hello on stdout"}, sameStdout: true, check: checkHello},
	{name: "stdout-bulk", guest: "hello", args: []string{"--bulk=3000000"}, sameStdout: true, check: checkBulk},
	{name: "exit-1", guest: "hello", args: []string{"--exit=1"}, exit: 1},
	{name: "exit-3", guest: "hello", args: []string{"--exit=3"}, exit: 3},
	{name: "exit-42", guest: "exit", args: []string{"42"}, exit: 42},
	{name: "exit-255", guest: "exit", args: []string{"255"}, exit: 255},
	{name: "exit-from-goroutine", guest: "exit", args: []string{"7", "goroutine"}, exit: 7, cpus: 2},
	{name: "gc-pressure", guest: "gcpressure", mem: "128M", pass: true, timeout: 2 * time.Minute},
	// A BSS larger than --mem: untouched, it costs no memory, as on Linux.
	{name: "bss-larger-than-memory", guest: "bigbss", mem: "48M", pass: true},
	{name: "sched", guest: "sched", pass: true, timeout: 2 * time.Minute},
	{
		name: "mutex-2cpus", guest: "mutex", cpus: 2, env: []string{"GOMAXPROCS=2"},
		args: []string{"-want-cpus", "2"}, pass: true, timeout: 2 * time.Minute,
	},
	{name: "mutex-1cpu", guest: "mutex", cpus: 1, args: []string{"-want-cpus", "1"}, pass: true, timeout: 2 * time.Minute},
	{
		name: "recover", guest: "recover", pass: true, sameStdout: true,
		stdout: []string{
			`nil-read: recovered "runtime error: invalid memory address or nil pointer dereference"`,
			`nil-call: recovered "runtime error: invalid memory address or nil pointer dereference"`,
			`index: recovered "runtime error: index out of range [5] with length 3"`,
		},
	},
	{
		name: "panic", guest: "panic", exit: 2,
		stdout: []string{"about to panic"},
		stderr: []string{"panic: boom from the guest", "goroutine 1 [running]:", "main.explode()"},
	},
	{
		name: "panic-gotraceback-crash", guest: "panic", env: []string{"GOTRACEBACK=crash"},
		exit: 128 + 6, // SIGABRT
		// With GOTRACEBACK=crash the header reads "goroutine 1 gp=0x... m=0 mp=0x... [running]:".
		stderr: []string{"panic: boom from the guest", "goroutine 1 gp=", "[running]:", "main.explode()"},
	},
	{name: "preempt-tight-loop", guest: "preempt", env: []string{"GOMAXPROCS=1"}, pass: true},
	{
		name: "out-of-memory", guest: "oom", mem: "128M", args: []string{"-max", "2048"},
		skip: map[string]string{"unix": "unix mode does not limit memory"},
		// Natively, Go needs some 600 MiB of address space to start; 1 GiB runs out at ~350 MiB.
		nativeLimitAS: 1 << 30,
		timeout:       2 * time.Minute,
		exit:          2,
		stdout:        []string{"info: 0 MiB live"},
		// Natively the runtime fails reserving address space ("fatal error: out of memory");
		// in a VM, committing it ("fatal error: runtime: out of memory").
		check: func(t *testing.T, _ mode, _ runSpec, r result) {
			if !outOfMemory.MatchString(r.stderr) {
				t.Errorf("stderr lacks Go's %q", outOfMemory)
			}
		},
	},
	{name: "clock", guest: "clock", pass: true, check: checkClock},
	{
		// A fault nothing handles: the guest puts SIGSEGV back to SIG_DFL behind the runtime's
		// back and dereferences nil. Killed by SIGSEGV natively; in a VM, the monitor reports
		// where, once, and exits as the kernel would.
		name: "crash-sigsegv", guest: "crash", exit: 128 + 11,
		stdout:       []string{"ok: about to dereference nil in main.crashHere"},
		check:        checkCrash,
		monitorCheck: checkCrashReport,
	},
	{
		// A SIGTERM from the host, sent to the process the test started (in a VM, the monitor),
		// reaches the guest's os/signal.Notify.
		name: "sigterm-notify", guest: "sigterm", during: signalWhenReady(syscall.SIGTERM),
		pass: true, sameStdout: true, stdout: []string{"ready\n", "got term\n"},
	},
	{
		// The other signals a service is sent (reload, reopen logs, terminal resize) are
		// passed on too, as docker run passes them.
		name: "sighup-notify", guest: "sigterm", args: []string{"hup"}, during: signalWhenReady(syscall.SIGHUP),
		pass: true, sameStdout: true, stdout: []string{"ready\n", "got hup\n"},
	},
	{
		name: "sigusr1-notify", guest: "sigterm", args: []string{"usr1"}, during: signalWhenReady(syscall.SIGUSR1),
		pass: true, sameStdout: true, stdout: []string{"ready\n", "got usr1\n"},
	},
	{
		name: "sigwinch-notify", guest: "sigterm", args: []string{"winch"}, during: signalWhenReady(syscall.SIGWINCH),
		pass: true, sameStdout: true, stdout: []string{"ready\n", "got winch\n"},
	},
	{
		// Without Notify, the runtime's default action for SIGTERM kills the guest with it.
		name: "sigterm-default", guest: "sigterm", args: []string{"default"}, during: signalWhenReady(syscall.SIGTERM),
		exit: 128 + 15, sameStdout: true,
		check: func(t *testing.T, _ mode, _ runSpec, r result) {
			if r.stdout != "ready\n" {
				t.Errorf("stdout is %q, want just %q", r.stdout, "ready\n")
			}
		},
	},
	{
		// The standard input reaches the guest in every mode, as docker run -i gives it to a
		// container: a megabyte, read to the end (the monitor reads ahead of a guest in a VM
		// by 64 KiB at most), and a guest whose input is empty reads end of file.
		name: "stdin", guest: "stdin", stdin: stdinInput, pass: true, sameStdout: true,
		stdout: []string{fmt.Sprintf("info: %d bytes", len(stdinInput)), fmt.Sprintf("sha256 %x\n", sha256.Sum256(stdinInput))},
	},
	{name: "stdin-empty", guest: "stdin", pass: true, sameStdout: true, stdout: []string{"info: 0 bytes"}},
	{
		name: "stdin-cat", guest: "stdin", args: []string{"cat"}, stdin: stdinInput, pass: true, sameStdout: true,
		check: func(t *testing.T, _ mode, _ runSpec, r result) {
			if !strings.HasPrefix(r.stdout, string(stdinInput)) {
				t.Errorf("stdout does not start with the %d bytes of stdin", len(stdinInput))
			}
			if strings.Contains(r.stderr, "unsupported") {
				t.Errorf("stderr: %s", r.stderr)
			}
		},
	},
	{
		// There is no file system, so the working directory is the root: os.Getwd and
		// filepath.Abs work, with no "unsupported system call" on stderr.
		name: "cwd-root", guest: "cwd", pass: true, stdout: []string{"cwd /\n", "abs /zone.txt\n"},
		skip: map[string]string{"native": "a host process has the test's directory", "unix": "unix mode is a plain host process"},
		check: func(t *testing.T, _ mode, _ runSpec, r result) {
			if strings.Contains(r.stderr, "unsupported") {
				t.Errorf("stderr: %s", r.stderr)
			}
		},
	},
	// kill and tgkill to the guest itself, caught with os/signal.Notify.
	{name: "self-signal", guest: "selfsignal", pass: true, sameStdout: true},
	{
		name: "self-signal-2cpus", guest: "selfsignal", cpus: 2, env: []string{"GOMAXPROCS=2"},
		pass: true, sameStdout: true,
	},
}

// (Where the runtime runs out first, under spt's RLIMIT_DATA, it says "out of memory allocating heap arena metadata".)
var outOfMemory = regexp.MustCompile(`(?m)^fatal error: (runtime: )?out of memory( allocating heap arena metadata)?$`)

func TestGuests(t *testing.T) {
	for _, c := range guestCases {
		t.Run(c.name, func(t *testing.T) {
			var native *result
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					if why, ok := c.skip[m.name]; ok {
						t.Skip(why)
					}
					m.ready(t)
					s := c.spec(buildGuest(t, c.guest))
					run := startIn(t, m, s)
					if c.during != nil {
						c.during(t, run)
					}
					r := run.wait()
					c.verify(t, m, s, r)
					if m.name == "native" {
						native = &r
					} else if c.sameStdout && native != nil {
						if got, want := withoutInfo(r.stdout), withoutInfo(native.stdout); got != want {
							t.Errorf("stdout differs from the native run's:\n--- %s ---\n%s\n--- native ---\n%s", m.name, tail(got, 2000), tail(want, 2000))
						}
					}
				})
			}
		})
	}
}

func (c *guestCase) spec(image string) runSpec {
	return runSpec{
		image: image, args: c.args, env: c.env, mem: c.mem, cpus: c.cpus, stdin: c.stdin,
		nativeLimitAS: c.nativeLimitAS, timeout: c.timeout,
	}
}

func (c *guestCase) verify(t *testing.T, m mode, s runSpec, r result) {
	t.Helper()
	if r.exit != c.exit {
		t.Errorf("exit status %d, want %d", r.exit, c.exit)
	}
	for _, want := range c.stdout {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	for _, want := range c.stderr {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if c.pass {
		checkPassed(t, r)
	}
	if c.check != nil {
		c.check(t, m, s, r)
	}
	if c.monitorCheck != nil && m.name == "hvt" {
		c.monitorCheck(t, s, r)
	}
}

// checkPassed checks the output of a guest that uses package check: no FAIL line, and PASS last.
func checkPassed(t *testing.T, r result) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL") {
			t.Errorf("guest reported %s", l)
		}
	}
	if lines[len(lines)-1] != "PASS" {
		t.Errorf("guest did not end with PASS (last line %q)", lines[len(lines)-1])
	}
}

// withoutInfo drops the "info:" lines, which hold measurements that differ from run to run.
func withoutInfo(s string) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "info:") }), "")
}

// checkHello checks that the guest saw exactly its arguments and environment, and, in the
// monitor modes, what morgana run tells every image of itself (abi.ModeEnv and the rest).
func checkHello(t *testing.T, m mode, s runSpec, r result) {
	t.Helper()
	wantArgs := append([]string{s.image}, s.args...)
	wantEnv := append([]string{}, s.env...)
	var gotArgs, gotEnv []string
	var fromMonitor map[string]string
	for _, l := range strings.Split(r.stdout, "\n") {
		for prefix, v := range map[string]any{"args: ": &gotArgs, "env: ": &gotEnv, "info: morgana run: ": &fromMonitor} {
			if j, ok := strings.CutPrefix(l, prefix); ok {
				if err := json.Unmarshal([]byte(j), v); err != nil {
					t.Errorf("bad line %q: %v", l, err)
				}
			}
		}
	}
	if !slices.Equal(gotArgs, wantArgs) {
		t.Errorf("os.Args = %q, want %q", gotArgs, wantArgs)
	}
	if !slices.Equal(gotEnv, wantEnv) {
		t.Errorf("os.Environ() = %q, want exactly %q and morgana run's own", gotEnv, wantEnv)
	}
	if strings.Contains(r.stdout, "on stderr") || strings.Contains(r.stderr, "on stdout") {
		t.Errorf("stdout and stderr are mixed up")
	}
	if !m.monitor {
		if len(fromMonitor) > 0 {
			t.Errorf("natively the guest has %v", fromMonitor)
		}
		return
	}
	size := int64(-1)
	if fi, err := os.Stat(s.image); err == nil {
		size = fi.Size()
	}
	boot, _ := strconv.ParseInt(fromMonitor[abi.BootNSEnv], 10, 64)
	if fromMonitor[abi.ModeEnv] != m.name || fromMonitor[abi.ImageSizeEnv] != strconv.FormatInt(size, 10) ||
		boot < r.start.UnixNano() || boot > r.start.Add(r.duration).UnixNano() {
		t.Errorf("morgana run set %v; want %s=%s, %s=%d and %s during the run", fromMonitor,
			abi.ModeEnv, m.name, abi.ImageSizeEnv, size, abi.BootNSEnv)
	}
	// Where --mem is a hard limit, the garbage collector is told of it.
	limit, ok := fromMonitor["GOMEMLIMIT"]
	if n, err := strconv.ParseUint(limit, 10, 64); m.name == "unix" && ok || m.name != "unix" && (err != nil || n == 0) {
		t.Errorf("%s: GOMEMLIMIT %q (set: %v)", m.name, limit, ok)
	}
}

// checkBulk checks the pattern that `hello --bulk=N` writes (see tests/guests/hello).
func checkBulk(t *testing.T, _ mode, s runSpec, r result) {
	t.Helper()
	n, _ := strconv.Atoi(strings.TrimPrefix(s.args[0], "--bulk="))
	lines := strings.Split(r.stdout, "\n")
	var bulk string
	for _, l := range lines {
		if len(l) > len(bulk) {
			bulk = l
		}
	}
	if len(bulk) != n {
		t.Fatalf("bulk output has %d bytes, want %d", len(bulk), n)
	}
	for i := 0; i < n; i++ {
		if want := 'a' + byte(i%23); bulk[i] != want {
			t.Fatalf("bulk output byte %d is %q, want %q", i, bulk[i], want)
		}
	}
}

// checkClock checks that the guest's wall clock was within a second of the host's while it ran.
func checkClock(t *testing.T, _ mode, s runSpec, r result) {
	t.Helper()
	var ns int64
	for _, l := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "now_unix_nano: "); ok {
			ns, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if ns == 0 {
		t.Fatalf("no now_unix_nano line")
	}
	guest := time.Unix(0, ns)
	lo, hi := r.start.Add(-time.Second), r.start.Add(r.duration+time.Second)
	if guest.Before(lo) || guest.After(hi) {
		t.Errorf("guest wall clock %v is not within 1s of the host's [%v, %v]", guest, r.start, r.start.Add(r.duration))
	}
	t.Logf("guest wall clock %v after the host started it", guest.Sub(r.start))
}

// stdinInput is the stdin case's input: a megabyte of lines.
var stdinInput = func() []byte {
	var b []byte
	for i := 0; len(b) < 1<<20; i++ {
		b = fmt.Appendf(b, "line %d of the standard input\n", i)
	}
	return b
}()
