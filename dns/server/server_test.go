package server

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/answer"
	"github.com/morgana-os/morgana/dns/zone"
)

const testZone = `$ORIGIN example.com.
$TTL 3600
@     SOA ns1 hostmaster 1 7200 3600 1209600 300
      NS  ns1
ns1   A   192.0.2.53
www   A   192.0.2.80
big   TXT "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `" "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"
`

func testTable(t testing.TB) *answer.Table {
	t.Helper()
	z, err := zone.Read(strings.NewReader(testZone), "test.zone")
	if err != nil {
		t.Fatal(err)
	}
	set, _ := zone.NewSet(z)
	tab, err := answer.Build(set)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// serve starts s on loopback, UDP over pc (a *net.UDPConn, or wrapped to
// hide it), TCP on a listener, and stops both when the test ends, checking
// that the loops return.
func serve(t *testing.T, s *Server, wrap func(net.PacketConn) net.PacketConn) (udp, tcp string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := pc
	if wrap != nil {
		served = wrap(pc)
	}
	done := make(chan error, 2)
	go func() { done <- s.ServeUDP(served) }()
	go func() { done <- s.ServeTCP(ln) }()
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		s.Close()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return after its socket was closed")
				return
			}
		}
	})
	return pc.LocalAddr().String(), ln.Addr().String()
}

func exchange(t *testing.T, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", network, name, err)
	}
	return r
}

func TestAllowTransfer(t *testing.T) {
	s := &Server{AXFR: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}}
	for addr, want := range map[string]bool{
		"192.0.2.7": true, "192.0.3.7": false, "::ffff:192.0.2.7": true, "2001:db8::1": true, "2001:db9::1": false,
	} {
		if got := s.AllowTransfer(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowTransfer(%s) = %v", addr, got)
		}
	}
	if (&Server{}).AllowTransfer(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty access list allows transfers")
	}
}
