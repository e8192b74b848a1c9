package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/internal/testenv"
)

// A mode is a way to run a guest program: a column of every case table. "native" runs the ELF
// directly on the host and is the reference: it proves the guest program itself is right, and
// gives the output the other modes must reproduce. The monitor modes run it through
// `morgana run`: hvt in a VM, spt as a process under a seccomp filter, unix as a plain process.
type mode struct {
	name string
	// monitor is true for modes that run the guest through morgana (the bad-input and CLI
	// tests run in those only).
	monitor bool
	// ready skips or fails t when the mode cannot run on this machine.
	ready func(t testing.TB)
	// command makes the command line that runs s.
	command func(t testing.TB, ctx context.Context, s runSpec) *exec.Cmd
}

// modes is the columns of the case tables, native first: the other modes compare with it.
var modes = []mode{
	{name: "native", ready: selected("native"), command: nativeCommand},
	monitorMode("hvt", testenv.MustHaveKVM, "--mode=hvt"),
	monitorMode("spt", nil, "--mode=spt"),
	monitorMode("unix", nil, "--mode=unix"),
}

// selected returns a ready function that skips t unless the mode is among those that
// MORGANA_TEST_MODES lists (comma-separated), if set.
func selected(name string) func(testing.TB) {
	return func(t testing.TB) {
		t.Helper()
		if list := os.Getenv("MORGANA_TEST_MODES"); list != "" && !slices.Contains(strings.Split(list, ","), name) {
			t.Skipf("mode %s not in MORGANA_TEST_MODES=%s", name, list)
		}
	}
}

// monitorModes returns the monitor modes that MORGANA_TEST_MODES selects.
func monitorModes() []mode {
	list := os.Getenv("MORGANA_TEST_MODES")
	var ms []mode
	for _, m := range modes {
		if m.monitor && (list == "" || slices.Contains(strings.Split(list, ","), m.name)) {
			ms = append(ms, m)
		}
	}
	return ms
}

// inSandboxes runs f, as a subtest of t, in each monitor mode that MORGANA_TEST_MODES selects
// and that gives an image neither the host's files nor its sockets: hvt and spt, not unix (a
// plain process, which the example tests in tests/website and tests/dns run). The mode is
// ready when f runs.
func inSandboxes(t *testing.T, f func(t *testing.T, m mode)) {
	for _, m := range monitorModes() {
		if m.name == "unix" {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			f(t, m)
		})
	}
}

// monitorMode is a mode that runs `morgana run [modeFlags] ...`. Every run needs the morgana
// binary, and whatever needs checks (for hvt, KVM).
func monitorMode(name string, needs func(testing.TB), modeFlags ...string) mode {
	return mode{
		name:    name,
		monitor: true,
		ready: func(t testing.TB) {
			t.Helper()
			selected(name)(t)
			mustHaveMorgana(t)
			if needs != nil {
				needs(t)
			}
		},
		command: func(t testing.TB, ctx context.Context, s runSpec) *exec.Cmd {
			return exec.CommandContext(ctx, mustHaveMorgana(t), monitorArgs(modeFlags, s)...)
		},
	}
}

// monitorArgs is the argument list of `morgana run` for s.
func monitorArgs(modeFlags []string, s runSpec) []string {
	args := append([]string{"run"}, modeFlags...)
	if s.mem != "" {
		args = append(args, "--mem", s.mem)
	}
	if s.cpus != 0 {
		args = append(args, "--cpus", strconv.Itoa(s.cpus))
	}
	for _, kv := range s.env {
		args = append(args, "-e", kv)
	}
	args = append(args, s.monitorFlags...)
	if s.image != "" { // only the no-image bad-input case has none
		args = append(args, s.image)
	}
	return append(args, s.args...)
}

// nativeCommand runs the ELF directly, with exactly s.env as its environment. --cpus N becomes
// an affinity mask of N host CPUs (taskset), so that runtime.NumCPU agrees; the guest's --mem
// has no native equivalent but nativeLimitAS.
func nativeCommand(t testing.TB, ctx context.Context, s runSpec) *exec.Cmd {
	t.Helper()
	var wrap []string
	if s.nativeLimitAS > 0 {
		wrap = append(wrap, testenv.MustHaveCommand(t, "prlimit"), fmt.Sprintf("--as=%d", s.nativeLimitAS))
	}
	if s.cpus > 0 {
		wrap = append(wrap, testenv.MustHaveCommand(t, "taskset"), "--cpu-list", hostCPUList(t, s.cpus))
	}
	argv := append(append(wrap, s.image), s.args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// prlimit and taskset exec the image with the argv they were given, so os.Args[0] is
	// s.image in every case; a nil Env would inherit ours.
	cmd.Env = append([]string{}, s.env...)
	return cmd
}

// hostCPUList returns n CPUs of this process's affinity mask, as a taskset list ("0,1"), or
// skips t when there are fewer.
func hostCPUList(t testing.TB, n int) string {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatalf("sched_getaffinity: %v", err)
	}
	list := ""
	for cpu := 0; cpu < len(set)*64 && n > 0; cpu++ {
		if set.IsSet(cpu) {
			if list != "" {
				list += ","
			}
			list += strconv.Itoa(cpu)
			n--
		}
	}
	if n > 0 {
		t.Skipf("this host has %d CPUs available, the case needs %d more", set.Count(), n)
	}
	return list
}

// runIn runs s in mode m, creating an empty working directory when s has none (the guest then
// finds no files, natively as in a VM).
func runIn(t testing.TB, m mode, s runSpec) result {
	t.Helper()
	return startIn(t, m, s).wait()
}

// startIn starts s in mode m, as runIn does, and returns without waiting for it to end.
func startIn(t testing.TB, m mode, s runSpec) *running {
	t.Helper()
	if s.dir == "" {
		s.dir = t.TempDir()
	}
	if s.timeout == 0 {
		s.timeout = defaultTimeout
	}
	return startCmd(t, s.timeout, func(ctx context.Context) *exec.Cmd {
		cmd := m.command(t, ctx, s)
		cmd.Dir = s.dir
		if s.stdin != nil {
			cmd.Stdin = bytes.NewReader(s.stdin)
		}
		if m.monitor {
			cmd.Env = append(os.Environ(), s.monitorEnv...)
		}
		return cmd
	})
}
