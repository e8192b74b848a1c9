package tests

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// TestWebsiteInVM runs the README's demo, examples/website, as a unikernel published with -p
// (tests/website covers its HTTP features, TLS and ACME as a host process; websitetls_test.go
// TLS and ACME in a VM): a page, the about page with what the monitor told the image, a
// conditional and a range request with curl, then SIGTERM, which must end it with 0.
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
			// The about page knows what morgana run told the image (abi.ImageSizeEnv and the
			// rest): in a VM it cannot stat its own executable.
			about := fetch(base + "/about")
			if !strings.Contains(about, "supported") {
				t.Errorf("about page: %.200q", about)
			}
			mode := map[string]string{"hvt": "a KVM VM", "spt": "a sandbox"}[m.name]
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`<div class="label">Image size</div><div class="value">[0-9.]+ MiB</div><div class="note">as the monitor reports it \(MORGANA_IMAGE_SIZE\)`),
				regexp.MustCompile(`<div class="label">Boot time</div><div class="value">[0-9.]+ ms</div><div class="note">to the first listener, from the monitor[^<]*\(MORGANA_BOOT_NS\)`),
				regexp.MustCompile(`<div class="label">Runs in</div><div class="value">` + mode + `</div>`),
			} {
				if !want.MatchString(about) {
					t.Errorf("the about page does not match %s", want)
				}
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
			r := run.wait()
			if r.exit != 0 {
				t.Errorf("after SIGTERM: exit status %d, want 0", r.exit)
			}
			// The access log on stdout is buffered (64K, 1s): the last requests' lines are
			// written at the exit, if not before.
			for _, want := range []string{`"GET /about HTTP/1.1" 200 `, `"GET /bench/100k.bin HTTP/1.1" 206 100 `, `"GET /nosuch HTTP/1.1" 404 `} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the access log lacks %s", want)
				}
			}
		})
	}
}
