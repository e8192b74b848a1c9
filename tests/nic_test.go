package tests

import (
	"strings"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// TestNIC checks network devices with raw frames (tests/guests/nic answers ARP and ICMP echo
// itself), in every monitor mode: the host pings a unikernel through a TAP in a namespace of the
// test's own, and two unikernels on a bridge ping each other.
func TestNIC(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			testenv.MustHaveCommand(t, "ping")
			image := buildImage(t, "nic")
			t.Run("host-pings-unikernel", func(t *testing.T) {
				ns := newNetns(t)
				ns.tap(t, "tap0", "10.0.0.1/24")
				run := startInNetns(t, ns, m, runSpec{image: image, args: []string{"-ip", "10.0.0.2"}, monitorFlags: []string{"--net", "service=tap0"}})
				if !run.waitFor("serving") {
					t.Fatalf("the unikernel did not start: %s", run.wait().stderr)
				}
				out := ns.run(t, "ping", "-c", "10", "-i", "0.05", "-W", "2", "-s", "1400", "10.0.0.2")
				if !strings.Contains(out, " 0% packet loss") {
					t.Errorf("ping lost packets:\n%s", out)
				}
				t.Logf("%s", lastLine(out))
			})
			t.Run("unikernel-pings-unikernel", func(t *testing.T) {
				ns := newNetns(t)
				ns.tap(t, "tap0", "")
				ns.tap(t, "tap1", "")
				ns.bridge(t, "br0", "", "tap0", "tap1")
				a := startInNetns(t, ns, m, runSpec{image: image, args: []string{"-ip", "10.0.0.2"}, monitorFlags: []string{"--net", "service=tap0"}})
				if !a.waitFor("serving") {
					t.Fatalf("the first unikernel did not start: %s", a.wait().stderr)
				}
				b := startInNetns(t, ns, m, runSpec{image: image, args: []string{"-ip", "10.0.0.3", "-ping", "10.0.0.2", "-count", "20"}, monitorFlags: []string{"--net", "service=tap1"}}).wait()
				if b.exit != 0 {
					t.Errorf("exit status %d", b.exit)
				}
				checkPassed(t, b)
			})
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
