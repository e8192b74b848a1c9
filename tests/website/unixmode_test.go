package website

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnixMode runs the website as morgana runs images on a laptop,
// `morgana run --mode unix`, and stops it as an orchestrator would, with
// SIGTERM to morgana, which passes it on.
func TestUnixMode(t *testing.T) {
	p := startWebsite(t, append([]string{mustMorgana(t), "run", "--mode", "unix", mustWebsite(t)}, args()...)...)
	check{200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, siteFile(t, "index.html"), -1}.verify(t, curl(t, p.url("/")))
	about := curl(t, p.url("/about"))
	check{200, nil, nil, -1}.verify(t, about)
	if !regexp.MustCompile(`<div class="label">Image size</div><div class="value">[0-9.]+ MiB</div>`).Match(about.body) {
		t.Errorf("the about page does not know the image's size")
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("morgana run exited %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Error("the website did not stop gracefully")
	}
}
