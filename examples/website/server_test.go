package main

import (
	"net/http/httptest"
	"testing"
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
