package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    string
		wantErr string // "" for success
		check   func(*config) bool
	}{
		{"", "", func(c *config) bool {
			return c.port == 80 && c.tlsPort == 443 && !c.tls() && c.accessLog == "combined" &&
				c.accessLogBuffer == 64<<10 && c.accessLogFlush == time.Second
		}},
		{"--access-log-buffer 0", "", func(c *config) bool { return c.accessLogBuffer == 0 }},
		{"--access-log-buffer 4K --access-log-flush 250ms", "", func(c *config) bool {
			return c.accessLogBuffer == 4<<10 && c.accessLogFlush == 250*time.Millisecond
		}},
		{"--access-log-buffer 1MiB", "", func(c *config) bool { return c.accessLogBuffer == 1<<20 }},
		{"--access-log-buffer 100", "", func(c *config) bool { return c.accessLogBuffer == 100 }},
		{"--access-log-buffer 64m", "", func(c *config) bool { return c.accessLogBuffer == 64<<20 }},
		{"--access-log-buffer 65M", "want a size", nil},
		{"--access-log-buffer -1", "want a size", nil},
		{"--access-log-buffer lots", "want a size", nil},
		{"--access-log-buffer K", "want a size", nil},
		{"--access-log-flush 0s", "positive", nil},
		{"--port 8080 --bind 127.0.0.1", "", func(c *config) bool { return c.port == 8080 && c.bind == "127.0.0.1" }},
		{"--cert c.pem --key k.pem --tls-port 8443", "", func(c *config) bool { return c.tls() && c.tlsPort == 8443 }},
		{"--acme-directory https://ca/dir --acme-domain a.example,b.example --acme-domain c.example --cache store",
			"", func(c *config) bool {
				return c.tls() && strings.Join(c.acmeDomains, " ") == "a.example b.example c.example"
			}},
		{"--shutdown-timeout 250ms", "", func(c *config) bool { return c.shutdownTimeout == 250*time.Millisecond }},
		{"--ipv4 10.0.0.2/24 --ipv4-gateway 10.0.0.1 --dns-servers 10.0.0.1 --port 8080 -l website:debug,net:info", "",
			func(c *config) bool { return c.port == 8080 && c.logs.Level("website") == slog.LevelDebug }},
		{"--ipv4 nonsense", "invalid value", nil},
		{"--cert c.pem", "go together", nil},
		{"--key k.pem", "go together", nil},
		{"--cert c --key k --acme-directory https://ca/dir --acme-domain a.example", "exclude", nil},
		{"--acme-directory https://ca/dir", "at least one --acme-domain", nil},
		{"--acme-domain a.example", "need --acme-directory", nil},
		{"--access-log json", "want combined", nil},
		{"--shutdown-timeout 0s", "positive", nil},
		{"--cert c --key k --redirect-port 8443", "", func(c *config) bool { return c.redirectPort == 8443 && c.tlsPort == 443 }},
		{"--cert c --key k --redirect-port 65536", "want a port", nil},
		{"--cert c --key k --redirect-port -1", "want a port", nil},
		{"--redirect-port 8443", "needs TLS", nil},
		{"--max-connections 500", "", func(c *config) bool { return c.maxConns == 500 }},
		{"--max-connections -1", "negative", nil},
		{"extra", "unexpected arguments", nil},
		{"--no-such-flag", "not defined", nil},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			c, err := parseFlags(strings.Fields(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestSizeFlagString(t *testing.T) {
	for n, want := range map[int]string{0: "0", 100: "100", 64 << 10: "64K", 1536: "1536", 3 << 20: "3M"} {
		if got := (*sizeFlag)(&n).String(); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
