package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
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

// TestStamps: the cached time stamp is the one formatting would give, for
// times in one second, across seconds and across zones, in the order a
// logger meets them.
func TestStamps(t *testing.T) {
	const layout = "02/Jan/2006:15:04:05 -0700" // Apache's %t
	berlin := time.FixedZone("CET", 3600)
	other := time.FixedZone("XYZ", 3600) // same offset, another name
	base := time.Date(2026, 11, 23, 13, 55, 36, 999_999_999, time.UTC)
	times := []time.Time{
		base,
		base.Add(-500 * time.Millisecond),    // the same second
		base.Add(time.Nanosecond),            // the next second
		base.Add(time.Nanosecond).In(berlin), // the same instant in another zone
		base.Add(time.Second).In(berlin),
		base.Add(time.Second).In(other),
		base.Add(time.Second), // back to UTC in the same second
		when,                  // -0700, a second and zone of its own
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), // a new year
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", -7*3600)),
		time.Unix(0, 0).UTC(),
		time.Unix(-1, 500).UTC(), // before 1970, where Unix rounds down
		time.Unix(-1, 0).UTC(),
	}
	var c stampCache
	for _, tm := range times {
		want := string(tm.AppendFormat([]byte("x"), layout))
		if got := string(c.append([]byte("x"), tm)); got != want {
			t.Errorf("%v: cached %q, want %q", tm, got, want)
		}
	}

	// The logger's own cache, between lines.
	var out bytes.Buffer
	l := New(&out, Common)
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tm := range times {
		out.Reset()
		l.now = func() time.Time { return tm }
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if want := "[" + tm.Format(layout) + "]"; !strings.Contains(out.String(), want) {
			t.Errorf("%v: line %q lacks %s", tm, out.String(), want)
		}
	}
}

// lockedWriter fails the test if two Writes overlap.
type lockedWriter struct {
	t    *testing.T
	busy sync.Mutex
	buf  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 || p[len(p)-1] != '\n' {
		w.t.Errorf("a write of %q, not whole lines", p)
	}
	if !w.busy.TryLock() {
		w.t.Error("concurrent Write")
		return len(p), nil
	}
	defer w.busy.Unlock()
	return w.buf.Write(p)
}

// TestConcurrentRequestsWholeLines: requests served at once make whole
// lines, one each, never interleaved, with the writes of a size, of the
// timer and of Close racing each other.
func TestConcurrentRequestsWholeLines(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"unbuffered", Options{}},
		{"a small buffer", Options{BufferSize: 500, FlushInterval: time.Hour}},
		{"a small buffer and a short interval", Options{BufferSize: 500, FlushInterval: time.Millisecond}},
		{"a large buffer", Options{BufferSize: 64 << 10, FlushInterval: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &lockedWriter{t: t}
			l := NewWithOptions(w, Combined, tt.opts)
			srv := httptest.NewServer(l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			srv.Close() // the last lines are logged when their handlers return
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
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
		})
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

// writes records every Write, and can fail them.
type writes struct {
	mu     sync.Mutex
	writes []string
	fail   func(i int) (n int, err error, failed bool) // of the ith Write; nil: none fail
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := len(w.writes)
	w.writes = append(w.writes, string(p))
	if w.fail != nil {
		if n, err, failed := w.fail(i); failed {
			return n, err
		}
	}
	return len(p), nil
}

func (w *writes) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// lineCounts is the number of lines of each write.
func lineCounts(writes []string) []int {
	var n []int
	for _, w := range writes {
		n = append(n, strings.Count(w, "\n"))
	}
	return n
}

// serve logs one request for each path, in order.
func serve(l *Logger, paths ...string) {
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	for _, p := range paths {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
}

// paths returns n paths of the same length, /p00, /p01...
func paths(n int) []string {
	var p []string
	for i := range n {
		p = append(p, fmt.Sprintf("/p%02d", i))
	}
	return p
}

// checkWholeLines fails t unless the writes, in order, are the lines of
// the requests for want, each write whole lines.
func checkWholeLines(t *testing.T, writes []string, want []string) {
	t.Helper()
	var got []string
	for _, w := range writes {
		if w == "" || !strings.HasSuffix(w, "\n") {
			t.Errorf("write %q is not whole lines", w)
		}
		for _, l := range strings.SplitAfter(w, "\n") {
			if l != "" {
				got = append(got, l)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines written, want %d:\n%s", len(got), len(want), strings.Join(writes, ""))
	}
	for i, l := range got {
		if !strings.Contains(l, `"GET `+want[i]+` HTTP/1.1" 200 5`) {
			t.Errorf("line %d is %q, want the request for %s", i, l, want[i])
		}
	}
}

// TestBufferSize: lines are held until the buffer is full, then written
// together, never more than the buffer size in one write unless a single
// line is longer; Close writes the rest.
func TestBufferSize(t *testing.T) {
	var one bytes.Buffer
	New(&one, Common).Wrap(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p00", nil))
	L := one.Len() // every line of the test is as long
	tests := []struct {
		name      string
		size      int
		lines     int
		want      []int // the lines in each write before Close
		wantClose int   // the lines Close writes
	}{
		{"unbuffered", 0, 5, []int{1, 1, 1, 1, 1}, 0},
		{"lines fill the buffer exactly", 2 * L, 5, []int{2, 2}, 1},
		{"a line that does not fit waits for the next write", 2*L + L/2, 5, []int{2, 2}, 1},
		{"larger than the lines", 10 * L, 5, nil, 5},
		{"a line longer than the buffer", L / 2, 3, []int{1, 1, 1}, 0},
		{"one byte", 1, 2, []int{1, 1}, 0},
		{"nothing logged", 64 << 10, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			l := NewWithOptions(w, Common, Options{BufferSize: tt.size, FlushInterval: time.Hour})
			p := paths(tt.lines)
			serve(l, p...)
			before := w.get()
			if got := lineCounts(before); !slices.Equal(got, tt.want) {
				t.Errorf("writes of %v lines before Close, want %v", got, tt.want)
			}
			for _, b := range before {
				if len(b) > max(tt.size, L) {
					t.Errorf("a write of %d bytes, more than the buffer's %d", len(b), tt.size)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			all := w.get()
			if got := lineCounts(all[len(before):]); tt.wantClose == 0 && len(got) != 0 || tt.wantClose > 0 && !slices.Equal(got, []int{tt.wantClose}) {
				t.Errorf("Close wrote %v lines, want %d in one write", got, tt.wantClose)
			}
			checkWholeLines(t, all, p)
		})
	}
}

// waitFor polls cond until it holds, or fails t after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10s", what)
		}
	}
}

// TestFlushInterval: lines that do not fill the buffer are written once
// the interval has passed, and an idle logger writes nothing.
func TestFlushInterval(t *testing.T) {
	const interval = 5 * time.Millisecond
	tests := []struct {
		name    string
		batches []int // lines logged, the previous batch written before the next
	}{
		{"one line", []int{1}},
		{"a few lines", []int{3}},
		{"the timer is armed again", []int{2, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			l := NewWithOptions(w, Common, Options{BufferSize: 64 << 10, FlushInterval: interval})
			defer l.Close()
			var logged []string
			for _, n := range tt.batches {
				p := paths(len(logged) + n)[len(logged):]
				serve(l, p...)
				logged = append(logged, p...)
				waitFor(t, "write of the lines", func() bool {
					return strings.Count(strings.Join(w.get(), ""), "\n") == len(logged)
				})
			}
			// Idle: the timer is not armed, a firing finds nothing to write.
			time.Sleep(4 * interval)
			checkWholeLines(t, w.get(), logged)
		})
	}
}

// TestIdleNoWrites: a buffered logger that logs nothing writes nothing.
func TestIdleNoWrites(t *testing.T) {
	w := &writes{}
	l := NewWithOptions(w, Common, Options{BufferSize: 64 << 10, FlushInterval: time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	l.Flush()
	l.Close()
	if got := w.get(); len(got) != 0 {
		t.Errorf("writes %q", got)
	}
}

// TestCloseAndFlush: Flush and Close write what the buffer holds; lines
// logged after Close are written at once.
func TestCloseAndFlush(t *testing.T) {
	tests := []struct {
		name string
		do   func(l *Logger) error
		want []int // lines per write, after 3 requests, do, and 1 request
	}{
		{"close", (*Logger).Close, []int{3, 1}},
		{"close twice", func(l *Logger) error { l.Close(); return l.Close() }, []int{3, 1}},
		{"flush", (*Logger).Flush, []int{3}},
		{"flush, then close", func(l *Logger) error { l.Flush(); return l.Close() }, []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			l := NewWithOptions(w, Common, Options{BufferSize: 64 << 10, FlushInterval: time.Hour})
			serve(l, paths(3)...)
			if got := w.get(); len(got) != 0 {
				t.Fatalf("written before %s: %q", tt.name, got)
			}
			if err := tt.do(l); err != nil {
				t.Fatal(err)
			}
			serve(l, "/p03")
			if got := lineCounts(w.get()); !slices.Equal(got, tt.want) {
				t.Errorf("writes of %v lines, want %v", got, tt.want)
			}
		})
	}
}

// TestWriteErrors: a failing writer loses its lines, is reported once, and
// neither the requests nor the later lines suffer.
func TestWriteErrors(t *testing.T) {
	errBroken := errors.New("broken pipe")
	tests := []struct {
		name      string
		size      int
		fail      func(i int) (int, error, bool)
		wantLines int // of the 6 requests, in writes that did not fail
		wantErr   string
	}{
		{"unbuffered, always", 0, func(int) (int, error, bool) { return 0, errBroken, true }, 0, "broken pipe"},
		{"unbuffered, once", 0, func(i int) (int, error, bool) { return 0, errBroken, i == 0 }, 5, "broken pipe"},
		{"buffered, always", 64 << 10, func(int) (int, error, bool) { return 0, errBroken, true }, 0, "broken pipe"},
		{"buffered, the first write", 1, func(i int) (int, error, bool) { return 0, errBroken, i == 0 }, 5, "broken pipe"},
		{"short write", 0, func(i int) (int, error, bool) { return 1, nil, true }, 0, "short write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			w := &writes{fail: tt.fail}
			l := NewWithOptions(w, Common, Options{BufferSize: tt.size, FlushInterval: time.Hour,
				ErrorLog: slog.New(slog.NewTextHandler(&log, nil))})
			h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
			for _, p := range paths(6) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
				if rec.Code != 200 || rec.Body.String() != "hello" {
					t.Errorf("%s: %d %q", p, rec.Code, rec.Body)
				}
			}
			l.Close()
			var ok int
			for i, s := range w.get() {
				if _, _, failed := tt.fail(i); !failed {
					ok += strings.Count(s, "\n")
				}
			}
			if ok != tt.wantLines {
				t.Errorf("%d lines written, want %d", ok, tt.wantLines)
			}
			if n := strings.Count(log.String(), "level=ERROR"); n != 1 || !strings.Contains(log.String(), tt.wantErr) {
				t.Errorf("reported %d times, want once, with %q:\n%s", n, tt.wantErr, log.String())
			}
		})
	}
}

// nopResponseWriter is the cheapest ResponseWriter, so that the test
// measures the logger's allocations.
type nopResponseWriter http.Header

func (w nopResponseWriter) Header() http.Header         { return http.Header(w) }
func (w nopResponseWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w nopResponseWriter) WriteHeader(int)             {}

// TestAllocs: buffering costs no allocation per request beyond the
// unbuffered logger's.
func TestAllocs(t *testing.T) {
	allocs := func(opts Options) float64 {
		l := NewWithOptions(io.Discard, Combined, opts)
		defer l.Close()
		h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
		r := httptest.NewRequest("GET", "/docs/design.html", nil)
		r.Header.Set("User-Agent", "curl/8.0")
		w := nopResponseWriter{}
		return testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) })
	}
	unbuffered := allocs(Options{})
	for _, size := range []int{1, 512, 64 << 10} {
		if got := allocs(Options{BufferSize: size, FlushInterval: time.Hour}); got > unbuffered {
			t.Errorf("buffer of %d bytes: %v allocations per request, unbuffered %v", size, got, unbuffered)
		}
	}
	t.Logf("%v allocations per request", unbuffered)
}

// BenchmarkLog measures a line of the website's log: Combined, buffered,
// with the clock's own time.
func BenchmarkLog(b *testing.B) {
	l := NewWithOptions(io.Discard, Combined, Options{BufferSize: DefaultBufferSize, FlushInterval: time.Hour})
	defer l.Close()
	r := httptest.NewRequest("GET", "/docs/design.html", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
	rec := &recorder{code: http.StatusOK, bytes: 1 << 10}
	b.ReportAllocs()
	for b.Loop() {
		l.log(r, rec, time.Now())
	}
}
