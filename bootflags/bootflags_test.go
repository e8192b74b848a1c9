package bootflags

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"testing"
)

func parse(t *testing.T, args ...string) (*Network, *LogLevels, error) {
	t.Helper()
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n, l := RegisterNetwork(fs), RegisterLogs(fs)
	err := fs.Parse(args)
	if err == nil {
		err = n.Check()
	}
	return n, l, err
}

func TestNetworkFlags(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
		ipv4 string
		gw   string
		dns  int
	}{
		{[]string{}, true, "invalid Prefix", "invalid IP", 0},
		{[]string{"--ipv4=10.0.0.2/24", "--ipv4-gateway=10.0.0.1"}, true, "10.0.0.2/24", "10.0.0.1", 0},
		{[]string{"--ipv4", "192.168.1.5/16", "--dns-servers=1.1.1.1, 9.9.9.9"}, true, "192.168.1.5/16", "invalid IP", 2},
		{[]string{"--ipv4=10.0.0.2"}, false, "", "", 0},                                                    // no prefix length
		{[]string{"--ipv4=fd00::2/64"}, false, "", "", 0},                                                  // wrong family
		{[]string{"--ipv4=10.0.0.2/24", "--ipv4-gateway=10.0.1.1"}, false, "", "", 0},                      // gateway off-net
		{[]string{"--ipv6=fd00::2/64", "--ipv6-gateway=fe80::1"}, true, "invalid Prefix", "invalid IP", 0}, // link-local gateway
		{[]string{"--ipv6=fd00::2/64", "--ipv6-gateway=fd01::1"}, false, "", "", 0},
		{[]string{"--dns-servers=1.1.1.1,nope"}, false, "", "", 0},
	}
	for _, tt := range tests {
		n, _, err := parse(t, tt.args...)
		if (err == nil) != tt.ok {
			t.Errorf("%q: error %v, want ok=%v", tt.args, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if got := n.IPv4.String(); got != tt.ipv4 {
			t.Errorf("%q: ipv4 %s, want %s", tt.args, got, tt.ipv4)
		}
		if got := n.IPv4Gateway.String(); got != tt.gw {
			t.Errorf("%q: gateway %s, want %s", tt.args, got, tt.gw)
		}
		if len(n.DNSServers) != tt.dns {
			t.Errorf("%q: %d DNS servers, want %d", tt.args, len(n.DNSServers), tt.dns)
		}
	}
	n, _, _ := parse(t, "--ipv6=fd00::2/64")
	if n.IPv6 != netip.MustParsePrefix("fd00::2/64") {
		t.Errorf("ipv6 %v", n.IPv6)
	}
}

func TestLogLevels(t *testing.T) {
	tests := []struct {
		arg string
		ok  bool
		def slog.Level
		tcp slog.Level
	}{
		{"debug", true, slog.LevelDebug, slog.LevelDebug},
		{"*:warning,tcp:debug", true, slog.LevelWarn, slog.LevelDebug},
		{"tcp:error", true, slog.LevelInfo, slog.LevelError},
		{"loud", false, 0, 0},
		{":debug", false, 0, 0},
	}
	for _, tt := range tests {
		_, l, err := parse(t, "-l", tt.arg)
		if (err == nil) != tt.ok {
			t.Errorf("-l %q: error %v, want ok=%v", tt.arg, err, tt.ok)
			continue
		}
		if tt.ok && (l.Default != tt.def || l.Level("tcp") != tt.tcp || l.Level("other") != tt.def) {
			t.Errorf("-l %q: default %v, tcp %v", tt.arg, l.Default, l.Level("tcp"))
		}
	}
}
