package stack

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// dnsServer answers queries on s's port 53, UDP and TCP, from records. A
// name in truncate is answered over UDP with the TC bit and no records,
// so that the client must ask again over TCP.
type dnsServer struct {
	records  map[string][]netip.Addr
	truncate map[string]bool
	tcpAsked atomic.Int32
}

func (d *dnsServer) serve(t *testing.T, s *Stack) {
	pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	l, err := s.Listen(ctxTimeout(t, time.Second), "tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if answer := d.answer(buf[:n], true); answer != nil {
				pc.WriteTo(answer, from)
			}
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d.tcpAsked.Add(1)
			var n [2]byte
			if _, err := io.ReadFull(c, n[:]); err == nil {
				q := make([]byte, binary.BigEndian.Uint16(n[:]))
				if _, err := io.ReadFull(c, q); err == nil {
					a := d.answer(q, false)
					c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...))
				}
			}
			c.Close()
		}
	}()
}

func (d *dnsServer) answer(query []byte, udp bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.TrimSuffix(q.Name.String(), ".")
	rh := dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	addrs, ok := d.records[name]
	switch {
	case !ok:
		rh.RCode = dnsmessage.RCodeNameError
	case udp && d.truncate[name]:
		rh.Truncated = true
		addrs = nil
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	for _, a := range addrs {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case a.Is4() && q.Type == dnsmessage.TypeA:
			b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case a.Is6() && q.Type == dnsmessage.TypeAAAA:
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	msg, _ := b.Finish()
	return msg
}

// TestResolve resolves names through a DNS server on the other stack, and
// dials one.
func TestResolve(t *testing.T) {
	devA, devB := netdevtest.Pipe(macA, macB, 1500)
	a := newStack(t, Config{NICs: []NICConfig{{Device: devA, IPv4: ip4A, IPv6: ip6A}}, DNSServers: []netip.Addr{ip4B.Addr()}})
	b := newStack(t, Config{NICs: []NICConfig{{Device: devB, IPv4: ip4B, IPv6: ip6B}}})
	d := &dnsServer{
		records: map[string][]netip.Addr{
			"echo.test": {ip4B.Addr(), ip6B.Addr()},
			"big.test":  {ip4B.Addr()},
			"v6.test":   {ip6B.Addr()},
		},
		truncate: map[string]bool{"big.test": true},
	}
	d.serve(t, b)

	tests := []struct {
		network, host string
		want          []netip.Addr // nil: not found
	}{
		{"ip", "echo.test", []netip.Addr{ip4B.Addr(), ip6B.Addr()}},
		{"ip4", "echo.test.", []netip.Addr{ip4B.Addr()}},
		{"ip6", "ECHO.test", []netip.Addr{ip6B.Addr()}},
		{"ip", "big.test", []netip.Addr{ip4B.Addr()}},
		{"ip4", "v6.test", nil},
		{"ip", "nx.test", nil},
		{"ip", "localhost", []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}},
		{"ip6", "fd00::2", []netip.Addr{ip6B.Addr()}},
	}
	for _, tt := range tests {
		got, err := a.LookupNetIP(ctxTimeout(t, 5*time.Second), tt.network, tt.host)
		if tt.want == nil {
			var de *net.DNSError
			if !errors.As(err, &de) || !de.IsNotFound {
				t.Errorf("LookupNetIP(%s, %s) = %v, %v; want a not-found *net.DNSError", tt.network, tt.host, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("LookupNetIP(%s, %s) = %v, %v; want %v", tt.network, tt.host, got, err, tt.want)
		}
	}
	if d.tcpAsked.Load() == 0 {
		t.Error("a truncated answer was not asked again over TCP")
	}

	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", net.JoinHostPort("echo.test", strconv.Itoa(l.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatalf("dial by name: %v", err)
	}
	c.Close()
}

// TestResolveNoServers checks the error of a name with no DNS server to
// ask.
func TestResolveNoServers(t *testing.T) {
	a, _ := pair(t)
	_, err := a.Dial(ctxTimeout(t, time.Second), "tcp", "example.com:80")
	var de *net.DNSError
	if !errors.As(err, &de) || !strings.Contains(de.Err, "no DNS servers") {
		t.Errorf("dial by name without DNS servers: %v", err)
	}
}
