package website

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// check is one expectation of a response.
type check struct {
	status  int
	headers map[string]string // "" means the header must be absent
	body    []byte            // nil: not checked
	bodyLen int               // -1: not checked
}

func (c check) verify(t *testing.T, r response) {
	t.Helper()
	if r.exit != 0 {
		t.Fatalf("curl failed with status %d:\n%s", r.exit, r.stderr)
	}
	if r.status != c.status {
		t.Errorf("status %d, want %d", r.status, c.status)
	}
	for k, want := range c.headers {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if c.body != nil && !bytes.Equal(r.body, c.body) {
		t.Errorf("body of %d bytes differs from the expected %d", len(r.body), len(c.body))
	}
	if c.bodyLen >= 0 && len(r.body) != c.bodyLen {
		t.Errorf("body of %d bytes, want %d", len(r.body), c.bodyLen)
	}
}

// TestHTTP asks the website what a browser or a cache would, over plain
// HTTP/1.1, with curl.
func TestHTTP(t *testing.T) {
	p := startWebsite(t, append([]string{mustWebsite(t)}, args()...)...)
	index := siteFile(t, "index.html")
	design := siteFile(t, "docs/design.html")
	big := siteFile(t, "bench/100k.bin")

	// The validators the rest of the cases use come from the server.
	first := curl(t, p.url("/"))
	etag, lastMod := first.header.Get("Etag"), first.header.Get("Last-Modified")
	if !regexp.MustCompile(`^"[A-Za-z0-9_-]{16,}"$`).MatchString(etag) || lastMod == "" {
		t.Fatalf("GET /: ETag %q, Last-Modified %q: want a strong ETag and a date", etag, lastMod)
	}
	brTag := curl(t, "-H", "Accept-Encoding: br", p.url("/")).header.Get("Etag")
	if brTag == etag || brTag == "" {
		t.Fatalf("the brotli variant's ETag %q is the plain page's %q", brTag, etag)
	}

	tests := []struct {
		name string
		args []string
		want check
	}{
		{"home", []string{"--http1.1", p.url("/")}, check{200, map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Content-Length": "" + itoa(len(index)), "Vary": "Accept-Encoding", "Content-Encoding": ""}, index, -1}},
		{"document", []string{p.url("/docs/design.html")}, check{200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, design, -1}},
		{"document without .html", []string{p.url("/docs/design")}, check{200, nil, design, -1}},
		{"style sheet", []string{p.url("/style.css")}, check{200, map[string]string{"Content-Type": "text/css; charset=utf-8"}, siteFile(t, "style.css"), -1}},
		{"binary", []string{p.url("/bench/100k.bin")}, check{200, map[string]string{"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "Vary": ""}, big, -1}},
		{"head", []string{"-I", "-o", "/dev/null", p.url("/docs/design.html")}, check{200, map[string]string{"Content-Length": itoa(len(design))}, nil, 0}},
		{"about page", []string{p.url("/about")}, check{200, map[string]string{"Cache-Control": "no-store"}, nil, -1}},
		{"not found", []string{p.url("/no/such/page")}, check{404, map[string]string{"Content-Type": "text/html; charset=utf-8"}, siteFile(t, "404.html"), -1}},
		{"variant not addressable", []string{p.url("/index.html.gz")}, check{404, nil, nil, -1}},
		{"method not allowed", []string{"-X", "DELETE", p.url("/")}, check{405, map[string]string{"Allow": "GET, HEAD"}, nil, -1}},
		{"a directory without an index", []string{p.url("/bench/")}, check{404, nil, nil, -1}},

		// Conditional requests.
		{"if-none-match", []string{"-H", "If-None-Match: " + etag, p.url("/")}, check{304, map[string]string{"Etag": etag, "Content-Length": ""}, nil, 0}},
		{"if-none-match, other tag", []string{"-H", `If-None-Match: "stale"`, p.url("/")}, check{200, nil, index, -1}},
		{"if-none-match, br tag, br", []string{"-H", "If-None-Match: " + brTag, "-H", "Accept-Encoding: br", p.url("/")}, check{304, map[string]string{"Etag": brTag}, nil, 0}},
		{"if-none-match, br tag, identity", []string{"-H", "If-None-Match: " + brTag, p.url("/")}, check{200, nil, index, -1}},
		{"if-modified-since", []string{"-H", "If-Modified-Since: " + lastMod, p.url("/")}, check{304, nil, nil, 0}},
		{"if-modified-since, earlier", []string{"-H", "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT", p.url("/")}, check{200, nil, index, -1}},
		{"if-match fails", []string{"-H", `If-Match: "stale"`, p.url("/")}, check{412, nil, nil, -1}},

		// Ranges.
		{"range", []string{"-r", "100-199", p.url("/bench/100k.bin")}, check{206, map[string]string{
			"Content-Range": "bytes 100-199/102400", "Content-Length": "100"}, big[100:200], -1}},
		{"suffix range", []string{"-r", "-10", p.url("/bench/100k.bin")}, check{206, map[string]string{"Content-Range": "bytes 102390-102399/102400"}, big[102390:], -1}},
		{"open range", []string{"-r", "102000-", p.url("/bench/100k.bin")}, check{206, nil, big[102000:], -1}},
		{"unsatisfiable range", []string{"-r", "200000-", p.url("/bench/100k.bin")}, check{416, map[string]string{"Content-Range": "bytes */102400"}, nil, -1}},
		{"if-range, current", []string{"-r", "0-9", "-H", "If-Range: " + etag, p.url("/")}, check{206, nil, index[:10], -1}},
		{"if-range, stale", []string{"-r", "0-9", "-H", `If-Range: "stale"`, p.url("/")}, check{200, nil, index, -1}},

		// Content negotiation: raw bodies as sent, and curl's decoding.
		{"gzip", []string{"-H", "Accept-Encoding: gzip", p.url("/docs/design.html")}, check{200, map[string]string{
			"Content-Encoding": "gzip", "Vary": "Accept-Encoding", "Content-Length": itoa(len(siteFile(t, "docs/design.html.gz")))}, siteFile(t, "docs/design.html.gz"), -1}},
		{"br over gzip", []string{"-H", "Accept-Encoding: gzip, deflate, br", p.url("/docs/design.html")}, check{200, map[string]string{
			"Content-Encoding": "br"}, siteFile(t, "docs/design.html.br"), -1}},
		{"gzip weighed higher", []string{"-H", "Accept-Encoding: br;q=0.5, gzip", p.url("/docs/design.html")}, check{200, map[string]string{
			"Content-Encoding": "gzip"}, nil, -1}},
		{"decoded by curl", []string{"--compressed", p.url("/docs/design.html")}, check{200, map[string]string{"Content-Encoding": "br"}, design, -1}},
		{"no variant for binaries", []string{"--compressed", p.url("/bench/100k.bin")}, check{200, map[string]string{"Content-Encoding": ""}, big, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.verify(t, curl(t, tt.args...))
		})
	}

	// Every request is in the access log, in the Combined Log Format, once
	// the website has written its buffer.
	line := regexp.MustCompile(`^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "[A-Z]+ \S+ HTTP/1\.1" \d{3} (\d+|-) "-" "curl/[\d.]+"$`)
	log := p.waitAccessLog(t, func(log string) bool { return strings.Count(log, "\n") >= len(tests)+2 })
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != len(tests)+2 {
		t.Errorf("%d lines in the access log, want %d", len(lines), len(tests)+2)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("access log line %q is not in the Combined Log Format", l)
		}
	}
	if !strings.Contains(log, `"GET /bench/100k.bin HTTP/1.1" 206 100 `) {
		t.Error("the access log lacks the range request with its status and size")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
