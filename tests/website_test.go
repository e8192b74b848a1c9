package tests

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// TestWebsiteInVM runs the README's demo, examples/website, as a unikernel published with -p
// (tests/website covers its HTTP features, TLS and ACME as a host process): a page, the about
// page, a conditional and a range request with curl, then SIGTERM, which must end it with 0.
func TestWebsiteInVM(t *testing.T) {
	for _, m := range monitorModes() {
		if m.name == "unix" {
			continue // tests/website covers it
		}
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			curl := testenv.MustHaveCommand(t, "curl")
			port := freePort(t)
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			run := startIn(t, m, runSpec{image: buildPackageImage(t, "./examples/website"),
				monitorFlags: []string{"-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, timeout: 2 * time.Minute})
			// It logs on stderr; wait until it answers.
			up := false
			for deadline := time.Now().Add(60 * time.Second); !up && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				_, err := run1(curl, "-sS", "-m", "2", "-o", "/dev/null", base+"/")
				up = err == nil
			}
			if !up {
				t.Fatalf("the website did not answer within a minute")
			}
			fetch := func(args ...string) string {
				t.Helper()
				out, err := run1(curl, append([]string{"-sS", "-m", "20"}, args...)...)
				if err != nil {
					t.Fatalf("curl %s: %v: %s", strings.Join(args, " "), err, out)
				}
				return out
			}
			if out := fetch(base + "/"); !strings.Contains(out, "morgana") {
				t.Errorf("home page: %.200q", out)
			}
			if out := fetch(base + "/about"); !strings.Contains(out, "supported") {
				t.Errorf("about page: %.200q", out)
			}
			head := fetch("-D", "-", "-o", "/dev/null", base+"/")
			etag := ""
			for _, l := range strings.Split(head, "\r\n") {
				if v, ok := strings.CutPrefix(strings.ToLower(l), "etag: "); ok {
					etag = l[len(l)-len(v):]
				}
			}
			if etag == "" {
				t.Fatalf("no ETag in %q", head)
			}
			if code := fetch("-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: "+etag, base+"/"); code != "304" {
				t.Errorf("If-None-Match: status %s, want 304", code)
			}
			if out := fetch("-r", "0-99", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", base+"/bench/100k.bin"); out != "206 100" {
				t.Errorf("range request: %q, want \"206 100\"", out)
			}
			if code := fetch("-o", "/dev/null", "-w", "%{http_code}", base+"/nosuch"); code != "404" {
				t.Errorf("missing page: status %s", code)
			}
			run.signal(syscall.SIGTERM)
			if r := run.wait(); r.exit != 0 {
				t.Errorf("after SIGTERM: exit status %d, want 0", r.exit)
			}
		})
	}
}
