package server

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTCPPipelining writes many queries on one connection before reading
// any answer (RFC 7766 §6.2.1.1): all are answered, in order.
func TestTCPPipelining(t *testing.T) {
	_, tcp := serve(t, &Server{Table: testTable(t)}, nil)
	c, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200
	var out []byte
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion([]string{"www.example.com.", "big.example.com.", "nope.example.com."}[i%3], dns.TypeTXT)
		m.Id = uint16(i)
		b, _ := m.Pack()
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range n {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if m.Id != uint16(i) || m.Truncated {
			t.Fatalf("answer %d: id %d, TC %v", i, m.Id, m.Truncated)
		}
	}
}

// TestTCPTransferACL transfers the zone to an allowed address and refuses
// it to another (127.0.0.2 is loopback too on Linux).
func TestTCPTransferACL(t *testing.T) {
	_, tcp := serve(t, &Server{Table: testTable(t), AXFR: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, nil)
	for _, tt := range []struct {
		from  string
		allow bool
	}{{"127.0.0.1", true}, {"127.0.0.2", false}} {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tt.from)}}
		conn, err := d.Dial("tcp", tcp)
		if err != nil {
			t.Skipf("dial from %s: %v", tt.from, err)
		}
		tr := &dns.Transfer{Conn: &dns.Conn{Conn: conn}}
		m := new(dns.Msg)
		m.SetAxfr("example.com.")
		env, err := tr.In(m, tcp)
		if err != nil {
			t.Fatal(err)
		}
		records := 0
		var xerr error
		for e := range env {
			if e.Error != nil {
				xerr = e.Error
			}
			records += len(e.RR)
		}
		conn.Close()
		if tt.allow && (xerr != nil || records != 6) {
			t.Errorf("from %s: %d records, %v; want the zone (6 records)", tt.from, records, xerr)
		}
		if !tt.allow && (xerr == nil || records != 0) {
			t.Errorf("from %s: %d records, %v; want a refusal", tt.from, records, xerr)
		}
	}
}

// TestTCPLimits: connections beyond MaxTCPConns are closed at once, and an
// idle one after TCPIdle.
func TestTCPLimits(t *testing.T) {
	_, tcp := serve(t, &Server{Table: testTable(t), MaxTCPConns: 1, TCPIdle: 200 * time.Millisecond}, nil)
	first, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	time.Sleep(50 * time.Millisecond) // accepted
	second, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the connection over the limit: read %v, want EOF", err)
	}
	first.SetReadDeadline(time.Now().Add(2 * time.Second))
	start := time.Now()
	if _, err := first.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the idle connection: read %v, want EOF", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the idle connection was closed after %v", d)
	}
}
