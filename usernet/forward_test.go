package usernet

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseForward(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Forward
		wantErr string
	}{
		{in: "8080:80", want: tcpFwd("0.0.0.0:8080", 80)},
		{in: "8080:80/udp", want: udpFwd("0.0.0.0:8080", 80)},
		{in: "127.0.0.1:8080:80/tcp", want: tcpFwd("127.0.0.1:8080", 80)},
		{in: "[::1]:8080:80", want: tcpFwd("[::1]:8080", 80)},
		{in: "[::]:53:53/udp", want: udpFwd("[::]:53", 53)},
		{in: ":8080:80", want: tcpFwd("0.0.0.0:8080", 80)},
		{in: "0:80", want: tcpFwd("0.0.0.0:0", 80)},
		{in: "80", want: tcpFwd("0.0.0.0:0", 80)},
		{in: "65535:65535", want: tcpFwd("0.0.0.0:65535", 65535)},

		{in: "", wantErr: `guest port "" is not a number`},
		{in: "8080:80/sctp", wantErr: `protocol "sctp" is not tcp or udp`},
		{in: "8080:80/", wantErr: `protocol "" is not tcp or udp`},
		{in: "8080:0", wantErr: "guest port 0 is out of range (1-65535)"},
		{in: "65536:80", wantErr: "host port 65536 is out of range (0-65535)"},
		{in: "8080:99999", wantErr: "guest port 99999 is out of range"},
		{in: "-1:80", wantErr: "port ranges are not supported"},
		{in: "8000-8010:80", wantErr: "port ranges are not supported"},
		{in: "http:80", wantErr: `host port "http" is not a number`},
		{in: "+80:80", wantErr: "is not a number"},
		{in: "localhost:8080:80", wantErr: `host address "localhost" is not an IPv4 address`},
		{in: "::1:8080:80", wantErr: "an IPv6 address goes in brackets"},
		{in: "[::1]8080:80", wantErr: "want [IPv6]:HOSTPORT:GUESTPORT"},
		{in: "[::1]:8080", wantErr: "want [IPv6]:HOSTPORT:GUESTPORT"},
		{in: "[127.0.0.1]:8080:80", wantErr: "is not an IPv6 address"},
		{in: "1.2.3.4:5:6:7", wantErr: "want [IP:]HOSTPORT:GUESTPORT"},
	} {
		got, err := ParseForward(tt.in)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseForward(%q) = %v, want an error", tt.in, got)
				continue
			}
			if !strings.HasPrefix(err.Error(), "-p "+tt.in+": ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseForward(%q) error %q, want \"-p %s: ...%s...\"", tt.in, err, tt.in, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseForward(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestForwardString(t *testing.T) {
	for _, tt := range []struct {
		f    Forward
		want string
	}{
		{tcpFwd("0.0.0.0:8080", 80), "8080:80"},
		{udpFwd("0.0.0.0:8080", 80), "8080:80/udp"},
		{tcpFwd("127.0.0.1:0", 80), "127.0.0.1:0:80"},
		{tcpFwd("[::1]:8080", 80), "[::1]:8080:80"},
		{udpFwd("[::]:53", 53), "[::]:53:53/udp"},
	} {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// FuzzParseForward checks that the parser never panics and that what it
// accepts prints back to an equivalent flag.
func FuzzParseForward(f *testing.F) {
	for _, s := range []string{"8080:80", "8080:80/udp", "127.0.0.1:8080:80/tcp", "[::1]:8080:80", "80", "[fe80::1%eth0]:1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fw, err := ParseForward(s)
		if err != nil {
			return
		}
		if err := fw.validate(); err != nil {
			t.Fatalf("ParseForward(%q) = %v, which is invalid: %v", s, fw, err)
		}
		again, err := ParseForward(fw.String())
		if err != nil || again != fw {
			t.Fatalf("ParseForward(%q) = %v; its String %q parses as %v, %v", s, fw, fw.String(), again, err)
		}
		if !fw.HostAddr.Addr().IsValid() || fw.HostAddr.Addr() == (netip.Addr{}) {
			t.Fatalf("ParseForward(%q): no host address", s)
		}
	})
}
