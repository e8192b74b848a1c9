package server

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// addrPortOnly hides the *net.UDPConn behind the interfaces the portable
// loop uses, as a socket of the image's own stack would be.
type addrPortOnly struct {
	net.PacketConn
	ap addrPortConn
}

func (c addrPortOnly) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.ap.ReadFromUDPAddrPort(b)
}

func (c addrPortOnly) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	return c.ap.WriteToUDPAddrPort(b, a)
}

// plainPacketConn hides everything but net.PacketConn.
type plainPacketConn struct{ net.PacketConn }

var udpPaths = []struct {
	name string
	wrap func(net.PacketConn) net.PacketConn
}{
	{"mmsg", nil},
	{"addrport", func(pc net.PacketConn) net.PacketConn { return addrPortOnly{pc, pc.(addrPortConn)} }},
	{"packetconn", func(pc net.PacketConn) net.PacketConn { return plainPacketConn{pc} }},
}

func TestUDP(t *testing.T) {
	for _, p := range udpPaths {
		t.Run(p.name, func(t *testing.T) {
			udp, _ := serve(t, &Server{Table: testTable(t), Workers: 2}, p.wrap)
			for range 20 {
				r := exchange(t, "udp", udp, "WWW.example.com.", dns.TypeA)
				if len(r.Answer) != 1 || !r.Authoritative || r.Question[0].Name != "WWW.example.com." {
					t.Fatalf("answer: %v", r)
				}
			}
			if r := exchange(t, "udp", udp, "big.example.com.", dns.TypeTXT); !r.Truncated {
				t.Errorf("a 600-byte answer over UDP without EDNS is not truncated: %v", r)
			}
		})
	}
}

// TestUDPAllocs pins the hot path of the UDP loops: a query answered from
// the table allocates nothing, in the server (nor in the test's client,
// which counts too: AllocsPerRun counts the whole process).
func TestUDPAllocs(t *testing.T) {
	for _, p := range udpPaths[:2] {
		t.Run(p.name, func(t *testing.T) {
			udp, _ := serve(t, &Server{Table: testTable(t), Workers: 1}, p.wrap)
			c, err := net.Dial("udp", udp)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			msgs := make([][]byte, 0, 3)
			for _, q := range []struct {
				name string
				edns bool
			}{{"www.example.com.", false}, {"nope.example.com.", true}, {"big.example.com.", false}} {
				m := new(dns.Msg)
				m.SetQuestion(q.name, dns.TypeTXT)
				if q.edns {
					m.SetEdns0(1232, true)
				}
				b, _ := m.Pack()
				msgs = append(msgs, b)
			}
			buf := make([]byte, 2048)
			i := 0
			roundTrip := func() {
				if _, err := c.Write(msgs[i%len(msgs)]); err != nil {
					t.Fatal(err)
				}
				i++
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			for range 50 { // warm up: goroutines parked, buffers sized
				roundTrip()
			}
			if n := testing.AllocsPerRun(500, roundTrip); n > 0.05 {
				t.Errorf("%.2f allocations per query, want 0", n)
			}
		})
	}
}
