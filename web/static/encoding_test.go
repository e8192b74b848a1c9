package static

import (
	"slices"
	"testing"
)

func TestChooseEncoding(t *testing.T) {
	both := func(string) bool { return true }
	gzipOnly := func(c string) bool { return c == codingGzip }
	none := func(string) bool { return false }
	tests := []struct {
		name      string
		header    []string // nil: no Accept-Encoding at all
		available func(string) bool
		want      string
	}{
		{"no header", nil, both, "identity"},
		{"empty header", []string{""}, both, "identity"},
		{"browser", []string{"gzip, deflate, br, zstd"}, both, "br"},
		{"br preferred on a tie", []string{"gzip, br"}, both, "br"},
		{"gzip only offered", []string{"gzip, br"}, gzipOnly, "gzip"},
		{"nothing offered", []string{"gzip, br"}, none, "identity"},
		{"gzip only accepted", []string{"gzip"}, both, "gzip"},
		{"x-gzip alias", []string{"x-gzip"}, both, "gzip"},
		{"weights win over preference", []string{"br;q=0.5, gzip"}, both, "gzip"},
		{"weight with spaces", []string{"br ; q = 0.2 , gzip;q=0.3"}, both, "gzip"},
		{"case-insensitive", []string{"GZIP;Q=1, BR;q=0"}, both, "gzip"},
		{"br refused", []string{"br;q=0, gzip;q=0"}, both, "identity"},
		{"identity preferred", []string{"identity;q=1, gzip;q=0.5"}, both, "identity"},
		{"star", []string{"*"}, both, "br"},
		{"star with br excluded", []string{"*, br;q=0"}, both, "gzip"},
		{"star zero: identity anyway", []string{"*;q=0"}, both, "identity"},
		{"several fields", []string{"deflate", "br"}, both, "br"},
		{"malformed weight dropped", []string{"br;q=abc, gzip"}, both, "gzip"},
		{"weight out of range dropped", []string{"br;q=2, gzip;q=0.1"}, both, "gzip"},
		{"unknown codings only", []string{"zstd, deflate"}, both, "identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseAcceptEncoding(tt.header).choose(tt.available); got != tt.want {
				t.Errorf("Accept-Encoding %q: chose %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip, br", "br;q=0.5", "*;q=0", ";;,,q=", "identity;q=0, *;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := parseAcceptEncoding([]string{header}).choose(func(string) bool { return true })
		if !slices.Contains(preference, got) {
			t.Fatalf("Accept-Encoding %q: chose %q", header, got)
		}
	})
}
