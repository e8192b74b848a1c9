package dns

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestBadZone starts the image on broken zone files: it must exit with a
// non-zero status before serving, saying "file:line: reason".
func TestBadZone(t *testing.T) {
	bin := exampleBinary(t)
	const head = "$ORIGIN bad.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n"
	tests := []struct {
		name, zone, want string
	}{
		{"syntax", head + "www A 192.0.2.300\n", `:5: bad A A near "192.0.2.300"`},
		{"unknown type", head + "ns A 192.0.2.1\nwww BOGUS 1\n", `:6: `},
		{"CNAME and other data", head + "www A 192.0.2.1\n\n; a comment\nwww CNAME ns\n", `:8: CNAME and other data at www.bad.test.`},
		{"out of zone", head + "www.example.com. A 192.0.2.1\n", `:5: www.example.com. is out of zone bad.test.`},
		{"no SOA", "$ORIGIN bad.test.\n$TTL 60\nwww A 192.0.2.1\n", `:3: the first record must be the zone's SOA`},
		{"unterminated", head + "www TXT \"open\n", `:5: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.zone")
			if err := os.WriteFile(file, []byte(tt.zone), 0o644); err != nil {
				t.Fatal(err)
			}
			good, _ := filepath.Abs("testdata/example.com.zone")
			cmd := exec.Command(bin, "--zone", good, "--zone", file, "--port", "0")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the server did not exit")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero status", err)
			}
			want := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(file+tt.want))
			if !want.Match(stderr.Bytes()) {
				t.Errorf("stderr:\n%s\nwant a line starting %q", stderr.String(), file+tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("it printed %q: it must not have served", stdout.String())
			}
		})
	}
}
