package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// A netns is a network namespace that a test made for itself, with its TAPs and bridges; it
// is deleted, with everything in it, when the test ends.
type netns struct {
	name string
}

var netnsSeq atomic.Int32

// newNetns makes a namespace with its loopback up.
func newNetns(t testing.TB) *netns {
	t.Helper()
	testenv.MustHaveNetAdmin(t)
	n := &netns{name: fmt.Sprintf("mgtest-%d-%d", os.Getpid(), netnsSeq.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", n.name, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.name).Run() })
	n.ip(t, "link", "set", "lo", "up")
	return n
}

// ip runs the ip command in the namespace.
func (n *netns) ip(t testing.TB, args ...string) {
	t.Helper()
	n.run(t, append([]string{"ip"}, args...)...)
}

// run runs a command in the namespace and fails t if it fails.
func (n *netns) run(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := n.command(context.Background(), argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s: %v\n%s", n.name, strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// command is argv run in the namespace.
func (n *netns) command(ctx context.Context, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name}, argv...)...)
}

// tap makes a TAP interface, up, with the host-side address cidr if not empty.
func (n *netns) tap(t testing.TB, name, cidr string) {
	t.Helper()
	n.ip(t, "tuntap", "add", name, "mode", "tap")
	n.ip(t, "link", "set", name, "up")
	if cidr != "" {
		n.ip(t, "addr", "add", cidr, "dev", name)
	}
}

// bridge makes a bridge over the given interfaces, up, with address cidr if not empty.
func (n *netns) bridge(t testing.TB, name, cidr string, ports ...string) {
	t.Helper()
	n.ip(t, "link", "add", name, "type", "bridge")
	for _, p := range ports {
		n.ip(t, "link", "set", p, "master", name)
	}
	n.ip(t, "link", "set", name, "up")
	if cidr != "" {
		n.ip(t, "addr", "add", cidr, "dev", name)
	}
}

// wrap makes cmd run in the namespace.
func (n *netns) wrap(cmd *exec.Cmd) {
	ip, _ := exec.LookPath("ip")
	cmd.Args = append([]string{"ip", "netns", "exec", n.name}, cmd.Args...)
	cmd.Path = ip
}

// startInNetns is startIn with the monitor in namespace n.
func startInNetns(t testing.TB, n *netns, m mode, s runSpec) *running {
	t.Helper()
	if s.timeout == 0 {
		s.timeout = defaultTimeout
	}
	return startCmd(t, s.timeout, func(ctx context.Context) *exec.Cmd {
		cmd := m.command(t, ctx, s)
		cmd.Dir = t.TempDir()
		n.wrap(cmd)
		return cmd
	})
}
