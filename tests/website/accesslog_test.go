package website

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccessLogBuffer: the website holds its access log in a buffer, as
// nginx's access_log buffer= flush= does, and writes it when the flush
// interval has passed, when it fills up, and at exit; --access-log-buffer
// 0 writes each line as its request ends.
func TestAccessLogBuffer(t *testing.T) {
	requests := []string{"/", "/style.css", "/no/such/page"}
	want := []string{`"GET / HTTP/1.1" 200 `, `"GET /style.css HTTP/1.1" 200 `, `"GET /no/such/page HTTP/1.1" 404 `}
	tests := []struct {
		name  string
		flags []string
		// beforeExit: the lines are written while the website runs;
		// otherwise nothing may be written before SIGTERM.
		beforeExit bool
	}{
		{"held until exit", []string{"--access-log-flush", "1h"}, false},
		{"flush interval", []string{"--access-log-flush", "20ms"}, true},
		{"full buffer", []string{"--access-log-buffer", "1", "--access-log-flush", "1h"}, true},
		{"unbuffered", []string{"--access-log-buffer", "0", "--access-log-flush", "1h"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startWebsite(t, append([]string{mustWebsite(t)}, args(tt.flags...)...)...)
			for _, path := range requests {
				if r := curl(t, p.url(path)); r.exit != 0 {
					t.Fatalf("curl %s: exit status %d: %s", path, r.exit, r.stderr)
				}
			}
			if tt.beforeExit {
				p.waitAccessLog(t, containsAll(want...))
			} else if log := p.stdout.String(); log != "" {
				// Nothing but the exit writes a buffer of 64K with an
				// interval of an hour.
				t.Errorf("written before the exit:\n%s", log)
			}
			p.signal(t, syscall.SIGTERM)
			if code := p.wait(t, 10*time.Second); code != 0 {
				t.Errorf("exit status %d after SIGTERM, want 0", code)
			}
			log := p.stdout.String()
			if !containsAll(want...)(log) || strings.Count(log, "\n") != len(requests) {
				t.Errorf("the access log at exit:\n%s\nwant a line for each of %q", log, requests)
			}
		})
	}
}

// TestAccessLogBrokenStdout: with its stdout a pipe nobody reads any
// more, the website loses its access log, says so once on stderr, and
// goes on serving (without ignoring SIGPIPE, the first write would kill
// it).
func TestAccessLogBrokenStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	p := startWebsiteStdout(t, w, append([]string{mustWebsite(t)}, args("--access-log-flush", "10ms")...)...)
	w.Close() // the website's copy is the only one
	check{200, nil, siteFile(t, "index.html"), -1}.verify(t, curl(t, p.url("/")))
	p.waitLog(t, "access log: write failed", 10*time.Second)
	for range 3 {
		check{200, nil, siteFile(t, "index.html"), -1}.verify(t, curl(t, p.url("/")))
		time.Sleep(30 * time.Millisecond) // a flush, failing too
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if n := strings.Count(p.stderr.String(), "access log: write failed"); n != 1 {
		t.Errorf("the write error is reported %d times, want once", n)
	}
}
