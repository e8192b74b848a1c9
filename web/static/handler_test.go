package static

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var modTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tree is a small site; its .br variants are stand-ins (the handler never
// decodes them), its .gz ones real.
func tree(t testing.TB) fstest.MapFS {
	css := strings.Repeat("body { margin: 0 } ", 40)
	return fstest.MapFS{
		"index.html":      {Data: []byte("<!doctype html><title>home</title>")},
		"about.html":      {Data: []byte("<!doctype html><title>about</title>")},
		"docs/index.html": {Data: []byte("<!doctype html><title>docs</title>")},
		"style.css":       {Data: []byte(css)},
		"style.css.gz":    {Data: gz(t, css)},
		"style.css.br":    {Data: []byte("BROTLI")},
		"big.bin":         {Data: bytes.Repeat([]byte("0123456789"), 100)},
		"archive.gz":      {Data: gz(t, "a real download, not a variant")},
		"noext":           {Data: []byte("plain words")},
		"404.html":        {Data: []byte("<!doctype html><title>not here</title>")},
		"404.html.gz":     {Data: []byte("x")},
	}
}

func newHandler(t testing.TB, fsys fstest.MapFS) *Handler {
	t.Helper()
	h, err := New(fsys, Options{NotFound: "404.html", ModTime: modTime, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	// What net/http's server adds and a recorder does not (see
	// withServerLength).
	if _, ok := w.Header()["Content-Length"]; !ok && method == http.MethodGet && w.Code == http.StatusOK && w.Body.Len() <= autoLengthMax {
		w.Header()["Content-Length"] = []string{strconv.Itoa(w.Body.Len())}
	}
	return w
}

func TestServe(t *testing.T) {
	fsys := tree(t)
	h := newHandler(t, fsys)
	lastMod := modTime.Format(http.TimeFormat)
	tests := []struct {
		name    string
		method  string
		target  string
		hdr     []string
		status  int
		body    string            // exact, unless "" (then not checked)
		headers map[string]string // "" means absent
	}{
		{"root is index.html", "GET", "/", nil, 200, "<!doctype html><title>home</title>",
			map[string]string{"Content-Type": "text/html; charset=utf-8", "Last-Modified": lastMod, "Content-Length": "34", "Vary": "", "Content-Encoding": "", "Cache-Control": "no-cache"}},
		{"index.html by name", "GET", "/index.html", nil, 200, "<!doctype html><title>home</title>", nil},
		{"dot segments", "GET", "/docs/../index.html", nil, 200, "<!doctype html><title>home</title>", nil},
		{"directory without slash", "GET", "/docs?x=1", nil, 301, "", map[string]string{"Location": "docs/?x=1"}},
		{"directory", "GET", "/docs/", nil, 200, "<!doctype html><title>docs</title>", nil},
		{"file with a slash", "GET", "/about.html/", nil, 404, "<!doctype html><title>not here</title>", nil},
		{"name without .html", "GET", "/about", nil, 200, "<!doctype html><title>about</title>", nil},
		{"css, no Accept-Encoding", "GET", "/style.css", nil, 200, string(fsys["style.css"].Data),
			map[string]string{"Content-Type": "text/css; charset=utf-8", "Vary": "Accept-Encoding", "Content-Encoding": "", "Content-Length": "760"}},
		{"css, br preferred", "GET", "/style.css", []string{"Accept-Encoding", "gzip, deflate, br"}, 200, "BROTLI",
			map[string]string{"Content-Type": "text/css; charset=utf-8", "Content-Encoding": "br", "Vary": "Accept-Encoding", "Content-Length": "6"}},
		{"css, gzip", "GET", "/style.css", []string{"Accept-Encoding", "gzip"}, 200, string(fsys["style.css.gz"].Data),
			map[string]string{"Content-Encoding": "gzip", "Content-Length": strconv.Itoa(len(fsys["style.css.gz"].Data))}},
		{"css, identity asked", "GET", "/style.css", []string{"Accept-Encoding", "identity"}, 200, string(fsys["style.css"].Data),
			map[string]string{"Content-Encoding": "", "Vary": "Accept-Encoding"}},
		{"variant not addressable", "GET", "/style.css.gz", nil, 404, "", nil},
		{"a .gz of its own", "GET", "/archive.gz", nil, 200, string(fsys["archive.gz"].Data),
			map[string]string{"Content-Type": "application/gzip", "Content-Encoding": ""}},
		{"sniffed type", "GET", "/noext", nil, 200, "plain words", map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{"binary", "GET", "/big.bin", nil, 200, "", map[string]string{"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}},
		{"head", "HEAD", "/style.css", []string{"Accept-Encoding", "br"}, 200, "",
			map[string]string{"Content-Length": "6", "Content-Encoding": "br"}},
		{"post", "POST", "/", nil, 405, "", map[string]string{"Allow": "GET, HEAD"}},
		{"missing", "GET", "/nope", nil, 404, "<!doctype html><title>not here</title>",
			map[string]string{"Content-Type": "text/html; charset=utf-8", "Etag": ""}},
		{"missing, head", "HEAD", "/nope", nil, 404, "", map[string]string{"Content-Length": "38"}},
		{"missing, gzip 404 page", "GET", "/nope", []string{"Accept-Encoding", "gzip"}, 404, "x", map[string]string{"Content-Encoding": "gzip"}},
		{"range", "GET", "/big.bin", []string{"Range", "bytes=10-14"}, 206, "01234",
			map[string]string{"Content-Range": "bytes 10-14/1000", "Content-Length": "5"}},
		{"suffix range", "GET", "/big.bin", []string{"Range", "bytes=-3"}, 206, "789", map[string]string{"Content-Range": "bytes 997-999/1000"}},
		{"range of a variant", "GET", "/style.css", []string{"Accept-Encoding", "br", "Range", "bytes=0-1"}, 206, "BR",
			map[string]string{"Content-Encoding": "br", "Content-Range": "bytes 0-1/6"}},
		{"unsatisfiable range", "GET", "/big.bin", []string{"Range", "bytes=5000-"}, 416, "", map[string]string{"Content-Range": "bytes */1000"}},
		{"empty suffix range", "GET", "/big.bin", []string{"Range", "bytes=-0"}, 416, "", map[string]string{"Content-Range": "bytes */1000"}},
		{"empty suffix among ranges", "GET", "/big.bin", []string{"Range", "bytes=-00, 10-14"}, 206, "01234", map[string]string{"Content-Range": "bytes 10-14/1000"}},
		{"range unit in capitals", "GET", "/big.bin", []string{"Range", "Bytes=10-14"}, 206, "01234", map[string]string{"Content-Range": "bytes 10-14/1000"}},
		{"unknown range unit ignored", "GET", "/big.bin", []string{"Range", "items=0-9"}, 200, "", map[string]string{"Content-Range": "", "Content-Length": "1000"}},
		{"malformed range", "GET", "/big.bin", []string{"Range", "bytes=5-2"}, 416, "", nil},
		{"if-modified-since, not modified", "GET", "/", []string{"If-Modified-Since", lastMod}, 304, "", map[string]string{"Content-Length": ""}},
		{"if-modified-since, modified", "GET", "/", []string{"If-Modified-Since", modTime.Add(-time.Hour).Format(http.TimeFormat)}, 200, "", nil},
		{"if-none-match star", "GET", "/", []string{"If-None-Match", "*"}, 304, "", nil},
		{"if-none-match other", "GET", "/", []string{"If-None-Match", `"other"`}, 200, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, tt.method, tt.target, tt.hdr...)
			if w.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %q)", tt.method, tt.target, w.Code, tt.status, w.Body)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body, tt.body)
			}
			if tt.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD answered with a body of %d bytes", w.Body.Len())
			}
			for k, want := range tt.headers {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestETags(t *testing.T) {
	h := newHandler(t, tree(t))
	get := func(target string, hdr ...string) *httptest.ResponseRecorder { return do(h, "GET", target, hdr...) }
	identity := get("/style.css").Header().Get("Etag")
	br := get("/style.css", "Accept-Encoding", "br").Header().Get("Etag")
	gzip := get("/style.css", "Accept-Encoding", "gzip").Header().Get("Etag")
	for _, e := range []string{identity, br, gzip} {
		if len(e) < 3 || e[0] != '"' || e[len(e)-1] != '"' {
			t.Fatalf("ETag %q is not a strong entity tag", e)
		}
	}
	if identity == br || identity == gzip || br == gzip {
		t.Fatalf("representations share ETags: identity %s, br %s, gzip %s", identity, br, gzip)
	}
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"own tag", []string{"If-None-Match", identity}, 304},
		{"own tag in a list", []string{"If-None-Match", `"x", ` + identity}, 304},
		{"weak form matches", []string{"If-None-Match", "W/" + identity}, 304},
		{"br tag, br asked", []string{"If-None-Match", br, "Accept-Encoding", "br"}, 304},
		{"br tag, gzip asked", []string{"If-None-Match", br, "Accept-Encoding", "gzip"}, 200},
		{"if-none-match beats if-modified-since", []string{"If-None-Match", `"x"`, "If-Modified-Since", modTime.Format(http.TimeFormat)}, 200},
		{"if-range matches", []string{"If-Range", identity, "Range", "bytes=0-3"}, 206},
		{"if-range stale", []string{"If-Range", `"old"`, "Range", "bytes=0-3"}, 200},
		{"if-range stale, empty suffix range", []string{"If-Range", `"old"`, "Range", "bytes=-0"}, 200},
		{"own tag, empty suffix range", []string{"If-None-Match", identity, "Range", "bytes=-0"}, 304},
		{"if-match fails", []string{"If-Match", `"old"`}, 412},
		{"if-match holds", []string{"If-Match", identity}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get("/style.css", tt.hdr...)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if w.Code == 304 && (w.Body.Len() != 0 || w.Header().Get("Etag") == "" || w.Header().Get("Vary") == "") {
				t.Errorf("304 with body %q, ETag %q, Vary %q", w.Body, w.Header().Get("Etag"), w.Header().Get("Vary"))
			}
		})
	}

	// The tag follows the content, and only the content.
	again := newHandler(t, tree(t))
	if got := do(again, "GET", "/style.css").Header().Get("Etag"); got != identity {
		t.Errorf("the same content got another ETag: %s, then %s", identity, got)
	}
	changed := tree(t)
	changed["style.css"] = &fstest.MapFile{Data: []byte("body{}")}
	if got := do(newHandler(t, changed), "GET", "/style.css").Header().Get("Etag"); got == identity {
		t.Errorf("changed content kept its ETag %s", got)
	}
}

func TestMultipartRange(t *testing.T) {
	w := do(newHandler(t, tree(t)), "GET", "/big.bin", "Range", "bytes=0-1,10-11")
	if w.Code != 206 || !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/byteranges; boundary=") {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if n := strings.Count(w.Body.String(), "Content-Range: bytes "); n != 2 {
		t.Errorf("%d parts, want 2:\n%s", n, w.Body)
	}
}

func TestVariantNotSmallerIsIgnored(t *testing.T) {
	fsys := fstest.MapFS{
		"a.txt":    {Data: []byte("short")},
		"a.txt.br": {Data: []byte("longer than the file")},
	}
	var logged bytes.Buffer
	h, err := New(fsys, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "GET", "/a.txt", "Accept-Encoding", "br")
	if w.Body.String() != "short" || w.Header().Get("Content-Encoding") != "" || w.Header().Get("Vary") != "" {
		t.Errorf("served %q with Content-Encoding %q, Vary %q", w.Body, w.Header().Get("Content-Encoding"), w.Header().Get("Vary"))
	}
	if !strings.Contains(logged.String(), "a.txt.br") {
		t.Errorf("the skipped variant was not logged: %q", logged.String())
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(fstest.MapFS{"a.html": {}}, Options{NotFound: "404.html"}); err == nil || !strings.Contains(err.Error(), "404.html") {
		t.Errorf("a missing 404 page: err %v", err)
	}
	// Without a 404 page of its own the handler answers in plain text.
	h, err := New(fstest.MapFS{"a.html": {}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(h, "GET", "/b"); w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
}

// The whole server path, with its real ResponseWriter: Content-Length of a
// compressed response, HEAD, keep-alive.
func TestOverHTTP(t *testing.T) {
	fsys := tree(t)
	srv := httptest.NewServer(newHandler(t, fsys))
	defer srv.Close()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, srv.URL+"/style.css", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := int64(len(fsys["style.css.gz"].Data))
		if resp.ContentLength != want || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: Content-Length %d, want %d; Content-Encoding %q", method, resp.ContentLength, want, resp.Header.Get("Content-Encoding"))
		}
		if method == "GET" && !bytes.Equal(body, fsys["style.css.gz"].Data) {
			t.Errorf("GET: body differs from the variant")
		}
	}
}

// discardWriter is a ResponseWriter that costs next to nothing, so that a
// benchmark measures the handler. Its header is cleared per request, as a
// server makes a new one.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeFile measures the handler alone on a 1 KB page with
// precompressed variants, as wrk asks for it (no Accept-Encoding) and as a
// browser does.
func BenchmarkServeFile(b *testing.B) {
	page := bytes.Repeat([]byte("x"), 1<<10)
	h := newHandler(b, fstest.MapFS{"1k.html": {Data: page}, "1k.html.gz": {Data: gz(b, string(page))}, "404.html": {}})
	tests := []struct {
		name   string
		method string
		hdr    []string
	}{
		{"GET", "GET", nil},
		{"GET gzip", "GET", []string{"Accept-Encoding", "gzip, deflate, br, zstd"}},
		{"HEAD", "HEAD", nil},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			r := httptest.NewRequest(tt.method, "/1k.html", nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Add(tt.hdr[i], tt.hdr[i+1])
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// TestFastPath compares, request by request, what serveWhole writes with
// what ServeContent writes for the same request: status, every header
// field and the body.
func TestFastPath(t *testing.T) {
	handlers := []struct {
		name string
		opts Options
	}{
		{"defaults", Options{NotFound: "404.html", ModTime: modTime}},
		{"cache control", Options{ModTime: modTime, CacheControl: "public, max-age=60"}},
		{"epoch", Options{ModTime: time.Unix(0, 0)}}, // no Last-Modified
		{"zone", Options{ModTime: time.Date(2026, 11, 23, 10, 0, 0, 500, time.FixedZone("", 5*3600))}},
	}
	targets := []string{"/", "/index.html", "/docs/", "/about", "/style.css", "/big.bin", "/noext", "/archive.gz", "/empty.txt"}
	encodings := []string{"", "gzip", "br", "identity", "gzip, deflate, br, zstd", "br;q=0.5, gzip",
		"gzip;q=0, br;q=0", "*", "identity;q=0", "x-gzip", "zstd"}
	// Fields a middleware set before the handler: some the handler
	// replaces, some it adds to, some it leaves.
	presets := []http.Header{
		nil,
		{"Vary": {"Origin"}, "X-Frame-Options": {"DENY"}},
		{"Etag": {`"old"`}, "Cache-Control": {"private"}, "Content-Type": {"text/plain"}, "Last-Modified": {"x"}, "Accept-Ranges": {"none"}},
		{"Content-Encoding": {"gzip"}},                          // kept on an identity response
		{"Content-Encoding": {"gzip"}, "Content-Length": {"5"}}, // with it, so is Content-Length
		{"Content-Encoding": {""}, "Content-Length": {"5"}},     // an empty one is none
		{"Content-Length": {"5"}},
	}
	for _, hc := range handlers {
		fsys := tree(t)
		fsys["empty.txt"] = &fstest.MapFile{}
		hc.opts.Logger = slog.New(slog.DiscardHandler)
		fast, err := New(fsys, hc.opts)
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range fast.files {
			for _, rep := range f.reps {
				if rep.data == nil {
					t.Fatalf("%s (%s) is not kept in memory, and would not take the fast path", name, rep.coding)
				}
			}
		}
		slow, _ := New(fsys, hc.opts)
		slow.noFastPath = true
		for _, target := range targets {
			for _, method := range []string{"GET", "HEAD"} {
				for _, ae := range encodings {
					for i, preset := range presets {
						name := fmt.Sprintf("%s/%s %s/%q/preset %d", hc.name, method, target, ae, i)
						req := func() *http.Request {
							r := httptest.NewRequest(method, target, nil)
							if ae != "" {
								r.Header.Set("Accept-Encoding", ae)
							}
							return r
						}
						if !whole(req()) {
							t.Fatalf("%s: not a request for the fast path", name)
						}
						want, got := httptest.NewRecorder(), httptest.NewRecorder()
						maps.Copy(want.Header(), preset.Clone())
						maps.Copy(got.Header(), preset.Clone())
						slow.ServeHTTP(want, req())
						fast.ServeHTTP(got, req())
						compareResponses(t, name, withServerLength(got.Result(), method), want.Result())
					}
				}
			}
		}
	}
}

// withServerLength adds the Content-Length that net/http's server adds to
// a response without one whose body is small (autoLengthMax): what the fast
// path leaves to it. TestFastPathOverHTTP checks that the server does.
func withServerLength(resp *http.Response, method string) *http.Response {
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if _, ok := resp.Header["Content-Length"]; !ok && method == http.MethodGet && len(body) <= autoLengthMax {
		resp.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	return resp
}

// compareResponses reports how got differs from want, ignoring Date.
func compareResponses(t *testing.T, name string, got, want *http.Response) {
	t.Helper()
	if got.StatusCode != want.StatusCode {
		t.Errorf("%s: status %d, want %d", name, got.StatusCode, want.StatusCode)
	}
	for k, w := range want.Header {
		if g, ok := got.Header[k]; k != "Date" && (!ok || !slices.Equal(g, w)) {
			t.Errorf("%s: %s: %q, want %q", name, k, g, w)
		}
	}
	for k, g := range got.Header {
		if _, ok := want.Header[k]; !ok {
			t.Errorf("%s: %s: %q, want none", name, k, g)
		}
	}
	gb, _ := io.ReadAll(got.Body)
	wb, _ := io.ReadAll(want.Body)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s: body %q, want %q", name, gb, wb)
	}
}

// TestFastPathOverHTTP compares the fast path with ServeContent through a
// real server: the status line, the header fields (but Date) in any order,
// and the body, byte for byte. Files on either side of autoLengthMax check
// that every response has its Content-Length, whoever wrote it.
func TestFastPathOverHTTP(t *testing.T) {
	fsys := tree(t)
	fsys["edge/at.txt"] = &fstest.MapFile{Data: bytes.Repeat([]byte("a"), autoLengthMax)}
	fsys["edge/over.txt"] = &fstest.MapFile{Data: bytes.Repeat([]byte("o"), autoLengthMax+1)}
	fast := newHandler(t, fsys)
	slow := newHandler(t, fsys)
	slow.noFastPath = true
	fastSrv, slowSrv := httptest.NewServer(fast), httptest.NewServer(slow)
	defer fastSrv.Close()
	defer slowSrv.Close()
	requests := []string{
		"GET /style.css HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
		"HEAD /style.css HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"HEAD /about HTTP/1.0\r\n\r\n",
		"GET /big.bin HTTP/1.0\r\n\r\n",
	}
	for _, f := range []string{"/edge/at.txt", "/edge/over.txt"} {
		requests = append(requests,
			"GET "+f+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"HEAD "+f+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"GET "+f+" HTTP/1.0\r\n\r\n")
	}
	raw := func(srv *httptest.Server, req string) (head []string, body string) {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		h, body, _ := strings.Cut(string(resp), "\r\n\r\n")
		lines := strings.Split(h, "\r\n")
		lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Date: ") })
		slices.Sort(lines[1:]) // the status line stays first
		return lines, body
	}
	for _, req := range requests {
		gotHead, gotBody := raw(fastSrv, req)
		wantHead, wantBody := raw(slowSrv, req)
		if !slices.Equal(gotHead, wantHead) || gotBody != wantBody {
			t.Errorf("%q:\ngot  %q %.40q\nwant %q %.40q", req, gotHead, gotBody, wantHead, wantBody)
		}
		if !slices.ContainsFunc(wantHead, func(l string) bool { return strings.HasPrefix(l, "Etag: ") }) ||
			!slices.ContainsFunc(wantHead, func(l string) bool { return strings.HasPrefix(l, "Content-Length: ") }) {
			t.Errorf("%q: not a file with its length: %q", req, wantHead)
		}
	}
}

func TestWhole(t *testing.T) {
	tests := []struct {
		method string
		hdr    []string
		want   bool
	}{
		{"GET", nil, true},
		{"HEAD", nil, true},
		{"GET", []string{"Accept-Encoding", "gzip", "User-Agent", "wrk", "Cache-Control", "no-cache"}, true},
		{"POST", nil, false},
		{"GET", []string{"Range", "bytes=0-1"}, false},
		{"GET", []string{"Range", ""}, false},
		{"GET", []string{"If-Match", "*"}, false},
		{"GET", []string{"If-None-Match", `"x"`}, false},
		{"GET", []string{"If-Modified-Since", "Mon, 23 Nov 2026 10:00:00 GMT"}, false},
		{"HEAD", []string{"If-Unmodified-Since", "Mon, 23 Nov 2026 10:00:00 GMT"}, false},
		{"GET", []string{"If-Range", `"x"`}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/", nil)
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			r.Header.Add(tt.hdr[i], tt.hdr[i+1])
		}
		if got := whole(r); got != tt.want {
			t.Errorf("%s %q: whole %v, want %v", tt.method, tt.hdr, got, tt.want)
		}
	}
}

// TestHeaderValuesApart: the fields of a response share an array, but
// adding to one, as a middleware may after the handler, changes no other.
func TestHeaderValuesApart(t *testing.T) {
	h := newHandler(t, tree(t))
	for _, target := range []string{"/style.css", "/", "/nope"} {
		w := do(h, "GET", target, "Accept-Encoding", "gzip")
		before := w.Header().Clone()
		for k := range w.Header() {
			w.Header().Add(k, "added")
		}
		for k, v := range before {
			if got := w.Header()[k]; !slices.Equal(got, append(v, "added")) {
				t.Errorf("%s: %s: %q, want %q and added", target, k, got, v)
			}
		}
	}
}

// TestContentLengthHTTP2 checks that over HTTP/2 too every file's response
// carries its length, the small ones' written by net/http.
func TestContentLengthHTTP2(t *testing.T) {
	fsys := tree(t)
	fsys["edge/at.txt"] = &fstest.MapFile{Data: bytes.Repeat([]byte("a"), autoLengthMax)}
	fsys["edge/over.txt"] = &fstest.MapFile{Data: bytes.Repeat([]byte("o"), autoLengthMax+1)}
	srv := httptest.NewUnstartedServer(newHandler(t, fsys))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	for _, target := range []string{"/", "/big.bin", "/edge/at.txt", "/edge/over.txt"} {
		for _, method := range []string{"GET", "HEAD"} {
			req, _ := http.NewRequest(method, srv.URL+target, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			name := strings.TrimPrefix(target, "/")
			if name == "" {
				name = "index.html"
			}
			want := int64(len(fsys[name].Data))
			if resp.ProtoMajor != 2 || resp.ContentLength != want || method == "GET" && int64(len(body)) != want {
				t.Errorf("%s %s: %s, Content-Length %d, body %d bytes; want HTTP/2 and %d", method, target, resp.Proto, resp.ContentLength, len(body), want)
			}
		}
	}
}
