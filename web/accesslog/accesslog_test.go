package accesslog

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var when = time.Date(2026, 11, 23, 13, 55, 36, 0, time.FixedZone("", -7*3600))

func TestLines(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/empty":
		case "/early-hints":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		case "/stream":
			io.WriteString(w, "a")
			http.NewResponseController(w).Flush()
			io.WriteString(w, "bc")
		default:
			io.WriteString(w, "hello")
		}
	})
	tests := []struct {
		name   string
		format Format
		req    func() *http.Request
		want   string
	}{
		{"common", Common, func() *http.Request { return httptest.NewRequest("GET", "/a?b=c", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /a?b=c HTTP/1.1" 200 5` + "\n"},
		{"combined", Combined, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Referer", "http://example.com/")
			r.Header.Set("User-Agent", "curl/7.88.1")
			return r
		}, `192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "http://example.com/" "curl/7.88.1"` + "\n"},
		{"combined, no headers", Combined, func() *http.Request { return httptest.NewRequest("HEAD", "/", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "HEAD / HTTP/1.1" 200 5 "-" "-"` + "\n"},
		{"status and size of an error", Common, func() *http.Request { return httptest.NewRequest("GET", "/missing", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /missing HTTP/1.1" 404 19` + "\n"},
		{"nothing written", Common, func() *http.Request { return httptest.NewRequest("GET", "/empty", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /empty HTTP/1.1" 200 -` + "\n"},
		{"1xx is not the status", Common, func() *http.Request { return httptest.NewRequest("GET", "/early-hints", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /early-hints HTTP/1.1" 204 -` + "\n"},
		{"flushed", Common, func() *http.Request { return httptest.NewRequest("GET", "/stream", nil) },
			`192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /stream HTTP/1.1" 200 3` + "\n"},
		{"user and IPv6", Common, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "[2001:db8::1]:4711"
			r.SetBasicAuth("frank", "secret")
			r.Proto = "HTTP/2.0"
			return r
		}, `2001:db8::1 - frank [23/Nov/2026:13:55:36 -0700] "GET / HTTP/2.0" 200 5` + "\n"},
		{"hostile fields are escaped", Combined, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.RequestURI = "/\"x\n1.2.3.4 - - [forged]"
			r.Header.Set("User-Agent", `a"b\c`+"\x7f\xff")
			return r
		}, `192.0.2.1 - - [23/Nov/2026:13:55:36 -0700] "GET /\"x\x0a1.2.3.4 - - [forged] HTTP/1.1" 200 5 "-" "a\"b\\c\x7f\xff"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := New(&out, tt.format)
			l.now = func() time.Time { return when }
			l.Wrap(handler).ServeHTTP(httptest.NewRecorder(), tt.req())
			if out.String() != tt.want {
				t.Errorf("got  %s\nwant %s", out.String(), tt.want)
			}
		})
	}
}

// lockedWriter fails the test if two Writes overlap.
type lockedWriter struct {
	t    *testing.T
	busy sync.Mutex
	buf  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	if !w.busy.TryLock() {
		w.t.Error("concurrent Write")
		return len(p), nil
	}
	defer w.busy.Unlock()
	return w.buf.Write(p)
}

func TestConcurrentRequestsWholeLines(t *testing.T) {
	w := &lockedWriter{t: t}
	srv := httptest.NewServer(New(w, Combined).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	})))
	defer srv.Close()
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Get(fmt.Sprintf("%s/p%d", srv.URL, i))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	srv.Close() // the last lines are written when their handlers return
	line := regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "GET /p\d+ HTTP/1\.1" 200 \d+ "-" "Go-http-client/1\.1"$`)
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("malformed line %q", l)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Format
		ok   bool
	}{{"common", Common, true}, {"combined", Combined, true}, {"json", 0, false}, {"", 0, false}} {
		if got, ok := ParseFormat(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseFormat(%q) = %v, %v", tt.in, got, ok)
		}
	}
}
