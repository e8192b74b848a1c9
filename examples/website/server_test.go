package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRedirectToHTTPS(t *testing.T) {
	tests := []struct {
		method, target, host string
		tlsPort              int
		code                 int
		location             string
	}{
		{"GET", "/docs/?a=b", "example.com", 443, 301, "https://example.com/docs/?a=b"},
		{"GET", "/", "example.com:8080", 8443, 301, "https://example.com:8443/"},
		{"HEAD", "/x", "[2001:db8::1]:80", 443, 301, "https://[2001:db8::1]/x"},
		{"GET", "/x", "[2001:db8::1]:80", 8443, 301, "https://[2001:db8::1]:8443/x"},
		{"POST", "/form", "example.com", 443, 308, "https://example.com/form"},
		{"GET", "/", "", 443, 400, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		redirectToHTTPS(func() int { return tt.tlsPort }).ServeHTTP(w, r)
		if w.Code != tt.code || w.Header().Get("Location") != tt.location {
			t.Errorf("%s %s (Host %q): %d %q, want %d %q", tt.method, tt.target, tt.host, w.Code, w.Header().Get("Location"), tt.code, tt.location)
		}
	}
}

// TestServerLimits: a client that stalls its request, or stops reading the
// response, loses its connection; one that sends too big a header gets 431.
func TestServerLimits(t *testing.T) {
	saved := limits
	t.Cleanup(func() { limits = saved })
	limits.readHeader, limits.read, limits.write, limits.idle = 200*time.Millisecond, 500*time.Millisecond, time.Second, time.Second

	writeErr := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/endless" {
			io.WriteString(w, "ok")
			return
		}
		chunk := make([]byte, 1<<20)
		for range 1 << 10 {
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(handler, nil, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	tests := []struct {
		name, request string
		status        string // the response's first line
	}{
		{"stalled body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc", "HTTP/1.1 200 OK"},
		{"expect 100-continue, no body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n", "HTTP/1.1 200 OK"},
		{"header too big", "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t)
			io.WriteString(c, tt.request)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c) // until the server closes the connection
			if err != nil {
				t.Fatalf("the connection is still open 5s later (%v); read %q", err, b)
			}
			if first, _, _ := strings.Cut(string(b), "\r\n"); first != tt.status {
				t.Errorf("response %q, want %q", first, tt.status)
			}
		})
	}

	t.Run("client not reading", func(t *testing.T) {
		c := dial(t)
		io.WriteString(c, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case err := <-writeErr:
			if err == nil {
				t.Error("1 GiB written to a client that reads nothing")
			}
		case <-time.After(5 * time.Second):
			t.Error("the handler is still writing to a client that reads nothing 5s later")
		}
	})
}
