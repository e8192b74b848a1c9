package tests

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// TestDNSInVM runs examples/dns (tests/dns compares it with NSD as a host process) as a
// unikernel, and asks it with dig over -p, with a zone from a tar archive on a block device,
// and over a TAP.
func TestDNSInVM(t *testing.T) {
	for _, m := range monitorModes() {
		if m.name == "unix" {
			continue // tests/dns covers it
		}
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			dig := testenv.MustHaveCommand(t, "dig")
			image := buildPackageImage(t, "./examples/dns")
			start := func(ns *netns, flags []string, args ...string) {
				s := runSpec{image: image, args: args, monitorFlags: flags}
				var run *running
				if ns != nil {
					run = startInNetns(t, ns, m, s)
				} else {
					run = startIn(t, m, s)
				}
				if !run.waitFor("dns: serving") {
					t.Fatalf("the server did not start: %s", run.wait().stderr)
				}
			}
			ask := func(ns *netns, server, port string, q ...string) string {
				argv := append([]string{dig, "@" + server, "-p", port, "+tries=5", "+time=2", "+short"}, q...)
				if ns != nil {
					return ns.run(t, argv...)
				}
				out, err := run1(argv[0], argv[1:]...)
				if err != nil {
					t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
				}
				return out
			}
			t.Run("publish", func(t *testing.T) {
				port := fmt.Sprint(freePort(t))
				start(nil, []string{"-p", "127.0.0.1:" + port + ":53/udp", "-p", "127.0.0.1:" + port + ":53"})
				if got := ask(nil, "127.0.0.1", port, "www.example.com", "A"); !strings.Contains(got, "192.0.2.") {
					t.Errorf("A over UDP: %q", got)
				}
				if got := ask(nil, "127.0.0.1", port, "+tcp", "example.com", "SOA"); !strings.Contains(got, "hostmaster.example.com.") {
					t.Errorf("SOA over TCP: %q", got)
				}
			})
			t.Run("zone-archive", func(t *testing.T) {
				// --zone names a file of the tar archive on the block device "files", or one
				// built into the image (package files, then the image's embedded zones).
				archive := tarArchive(t, map[string]string{"zones/example.org.zone": filepath.Join(moduleRoot, "tests/dns/testdata/example.org.zone")})
				port := fmt.Sprint(freePort(t))
				start(nil, []string{"--block", "files=" + archive + ":ro", "-p", "127.0.0.1:" + port + ":53/udp"},
					"--zone", "zones/example.org.zone", "--zone", "example.com.zone")
				if got := ask(nil, "127.0.0.1", port, "back.example.org", "A"); !strings.Contains(got, "www.example.com.") || !strings.Contains(got, "192.0.2.") {
					t.Errorf("A from the archive's zone: %q", got)
				}
			})
			t.Run("tap", func(t *testing.T) {
				ns := newNetns(t)
				ns.tap(t, "tap0", "10.0.5.1/24")
				start(ns, []string{"--net", "service=tap0"}, "--ipv4=10.0.5.2/24")
				if got := ask(ns, "10.0.5.2", "53", "www.example.com", "A"); !strings.Contains(got, "192.0.2.") {
					t.Errorf("A: %q", got)
				}
				if got := ask(ns, "10.0.5.2", "53", "nosuch.example.com", "A"); got != "" {
					t.Errorf("NXDOMAIN answered %q", got)
				}
			})
		})
	}
}
