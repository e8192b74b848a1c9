package dns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/morgana-os/morgana/internal/testenv"
)

var (
	morganaOnce sync.Once
	morganaBin  string
	morganaErr  error
)

// morganaCLI builds cmd/morgana once per test binary.
func morganaCLI(t *testing.T) string {
	t.Helper()
	exampleBinary(t) // makes buildDir
	morganaOnce.Do(func() {
		morganaBin = filepath.Join(buildDir, "morgana")
		cmd := exec.Command("go", "build", "-o", morganaBin, "./cmd/morgana")
		cmd.Dir = testenv.MustModuleRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build`
		if out, err := cmd.CombinedOutput(); err != nil {
			morganaErr = fmt.Errorf("go build ./cmd/morgana: %v\n%s", err, out)
		}
	})
	if morganaErr != nil {
		t.Fatal(morganaErr)
	}
	return morganaBin
}

// TestMorganaRunUnix runs the image the way the issue says, `morgana run
// --mode unix IMAGE --zone FILE --port N`: it serves, and a bad zone makes
// morgana exit with the image's status and its file:line message.
func TestMorganaRunUnix(t *testing.T) {
	morgana := morganaCLI(t)
	image := exampleBinary(t)
	port := freePort(t)
	args := []string{"run", "--mode", "unix", "--cpus", "1", image, "--port", fmt.Sprint(port)}
	for _, f := range zoneFiles {
		args = append(args, "--zone", filepath.Join("testdata", f))
	}
	s := start(t, "morgana run", port, exec.Command(morgana, args...))
	m := new(mdns.Msg)
	m.SetQuestion("www.child.example.org.", mdns.TypeAAAA)
	if r := s.exchange(t, "udp", m); r == nil || len(r.Answer) != 1 || !r.Authoritative {
		t.Errorf("answer: %v", r)
	}
	if !strings.Contains(s.out.String(), "dns: serving 4 zones") {
		t.Errorf("no line saying what is served:\n%s", s.out)
	}

	bad := filepath.Join(t.TempDir(), "bad.zone")
	os.WriteFile(bad, []byte("$ORIGIN bad.test.\n@ 60 SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\nns 60 CNAME x\n"), 0o644)
	cmd := exec.Command(morgana, "run", "--mode", "unix", image, "--zone", bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Errorf("morgana run with a bad zone: %v, want a non-zero exit status", err)
	}
	if want := bad + ":5: CNAME and other data"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestZoneDevice serves a zone from a block device: the master file, padded
// with zeros to whole sectors, attached with `morgana run --block`.
func TestZoneDevice(t *testing.T) {
	morgana := morganaCLI(t)
	image := exampleBinary(t)
	text, err := os.ReadFile(filepath.Join("testdata", "example.org.zone"))
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "zone.img")
	if err := os.WriteFile(disk, append(text, make([]byte, 8192-len(text)%4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s := start(t, "morgana run --block", port, exec.Command(morgana, "run", "--mode", "unix", "--block", "zones="+disk+":ro",
		image, "--zone-device", "zones", "--zone", filepath.Join("testdata", "example.com.zone"), "--port", fmt.Sprint(port)))
	m := new(mdns.Msg)
	m.SetQuestion("back.example.org.", mdns.TypeA)
	if r := s.exchange(t, "udp", m); r == nil || len(r.Answer) != 3 || !r.Authoritative {
		t.Errorf("answer from the zone on the device: %v", r)
	}
}
