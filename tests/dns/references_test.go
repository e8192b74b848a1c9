package dns

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/internal/testenv"
)

// startNSD runs NSD on the zones of testdata, with response rate limiting
// off (Debian builds it in, and it would truncate the tests' bursts).
func startNSD(t *testing.T) *server {
	t.Helper()
	nsd := testenv.MustHaveCommand(t, "nsd")
	dir := t.TempDir()
	zonesDir, _ := filepath.Abs("testdata")
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	ip-address: 127.0.0.1@%d
	port: %d
	username: ""
	chroot: ""
	zonesdir: %q
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	pidfile: ""
	logfile: %q
	server-count: 1
	hide-version: yes
	hide-identity: yes
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	verbosity: 0
remote-control:
	control-enable: no
`, port, port, zonesDir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir, filepath.Join(dir, "nsd.log"))
	for _, f := range zoneFiles {
		fmt.Fprintf(&conf, "zone:\n\tname: %q\n\tzonefile: %q\n\tprovide-xfr: %s NOKEY\n", zoneOrigin(f), f, xfrAllowed)
	}
	cfg := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, "nsd", port, exec.Command(nsd, "-d", "-c", cfg))
}

// startKnot runs Knot DNS on the zones of testdata.
func startKnot(t *testing.T) *server {
	t.Helper()
	knotd := testenv.MustHaveCommand(t, "knotd")
	dir := t.TempDir()
	zonesDir, _ := filepath.Abs("testdata")
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    listen: 127.0.0.1@%d
    rundir: %q
    identity: ""
    version: ""
log:
  - target: stderr
    any: warning
database:
    storage: %q
acl:
  - id: xfr
    address: %s
    action: transfer
template:
  - id: default
    storage: %q
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    acl: xfr
zone:
`, port, dir, filepath.Join(dir, "db"), xfrAllowed, zonesDir)
	for _, f := range zoneFiles {
		fmt.Fprintf(&conf, "  - domain: %s\n", zoneOrigin(f))
	}
	cfg := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, "knot", port, exec.Command(knotd, "-c", cfg))
}
