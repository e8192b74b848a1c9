package stack

import (
	"context"
	"flag"
	"log/slog"
	"slices"
	"testing"
)

func TestParseBootArgs(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
		ipv4 string
		gw   string
		ipv6 string
		dns  []string
	}{
		{nil, true, "invalid Prefix", "invalid IP", "invalid Prefix", nil},
		{[]string{"--ipv4=10.0.0.2/24", "--ipv4-gateway", "10.0.0.1"}, true, "10.0.0.2/24", "10.0.0.1", "invalid Prefix", nil},
		{[]string{"-v", "-ipv4", "10.0.0.2/24", "-port=80", "-dns-servers=1.1.1.1,9.9.9.9"}, true, "10.0.0.2/24", "invalid IP", "invalid Prefix", []string{"1.1.1.1", "9.9.9.9"}},
		{[]string{"serve", "--ipv6=fd00::2/64", "--ipv6-gateway=fe80::1"}, true, "invalid Prefix", "invalid IP", "fd00::2/64", nil},
		{[]string{"-l", "debug", "--", "--ipv4=10.0.0.2/24"}, true, "10.0.0.2/24", "invalid IP", "invalid Prefix", nil},
		{[]string{"--ipv4"}, false, "", "", "", nil},                                                                // no value
		{[]string{"--ipv4=10.0.0.2"}, false, "", "", "", nil},                                                       // no prefix length
		{[]string{"--ipv4=10.0.0.2/24", "--ipv4-gateway=10.0.1.1"}, false, "", "", "", nil},                         // gateway off the network
		{[]string{"--dns-servers=1.1.1.1,resolver"}, false, "", "", "", nil},                                        // not an address
		{[]string{"--ipv4-gateway=fd00::1", "--ipv4=10.0.0.2/24"}, false, "", "", "", nil},                          // wrong family
		{[]string{"--name=--ipv4", "-ipv4x=1", "---"}, true, "invalid Prefix", "invalid IP", "invalid Prefix", nil}, // not ours
	}
	for _, tt := range tests {
		n, err := parseBootArgs(tt.args)
		if (err == nil) != tt.ok {
			t.Errorf("%q: error %v, want ok=%v", tt.args, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		var dns []string
		for _, a := range n.DNSServers {
			dns = append(dns, a.String())
		}
		if n.IPv4.String() != tt.ipv4 || n.IPv4Gateway.String() != tt.gw || n.IPv6.String() != tt.ipv6 || !slices.Equal(dns, tt.dns) {
			t.Errorf("%q: ipv4 %v gw %v ipv6 %v dns %v; want %s %s %s %v", tt.args, n.IPv4, n.IPv4Gateway, n.IPv6, dns, tt.ipv4, tt.gw, tt.ipv6, tt.dns)
		}
	}
}

// TestFlagsRegistered checks that an application's flag.Parse accepts
// the stack's boot arguments.
func TestFlagsRegistered(t *testing.T) {
	for _, name := range []string{"ipv4", "ipv4-gateway", "ipv6", "ipv6-gateway", "dns-servers"} {
		if flag.CommandLine.Lookup(name) == nil {
			t.Errorf("-%s is not defined on flag.CommandLine", name)
		}
	}
}

func TestBootLogger(t *testing.T) {
	tests := []struct {
		args  []string
		level slog.Level // the least level logged
		quiet bool
	}{
		{nil, 0, true},
		{[]string{"-l", "net:debug"}, slog.LevelDebug, false},
		{[]string{"-l=*:warning"}, slog.LevelWarn, false},
		{[]string{"--l", "tcp:debug"}, slog.LevelInfo, false}, // net takes the default
		{[]string{"-l", "not-a-level"}, 0, true},              // the application's -l
	}
	ctx := context.Background()
	for _, tt := range tests {
		l := bootLogger(tt.args)
		if tt.quiet {
			if l.Enabled(ctx, slog.LevelError) {
				t.Errorf("%q: logs, want quiet", tt.args)
			}
			continue
		}
		if !l.Enabled(ctx, tt.level) || l.Enabled(ctx, tt.level-1) {
			t.Errorf("%q: wrong level, want %v", tt.args, tt.level)
		}
	}
}
