package dns

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// pipeline sends msgs on one TCP connection to s, all before reading
// (RFC 7766 §6.2.1.1), and returns the answers by ID.
func pipeline(t *testing.T, s *server, msgs []*mdns.Msg) map[uint16]*mdns.Msg {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []byte
	for _, m := range msgs {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := map[uint16]*mdns.Msg{}
	for range msgs {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("%s: after %d answers: %v", s.name, len(got), err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		m := new(mdns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got[m.Id] = m
	}
	return got
}

// TestTCPPipelining sends the same queries, pipelined on one connection,
// to morgana and NSD, and compares the answers.
func TestTCPPipelining(t *testing.T) {
	r := newReferee(t)
	var msgs []*mdns.Msg
	for i, name := range queryNames(t) {
		for _, qt := range []uint16{mdns.TypeA, mdns.TypeTXT, mdns.TypeANY} {
			m := edns.query(name, qt)
			if i%2 == 0 {
				m = noEDNS.query(name, qt)
			}
			m.Id = uint16(len(msgs))
			msgs = append(msgs, m)
		}
	}
	got, want := pipeline(t, r.morgana, msgs), pipeline(t, r.nsd, msgs)
	for _, m := range msgs {
		if g, w := normalize(got[m.Id]), normalize(want[m.Id]); g != w {
			t.Errorf("%v: morgana (+) differs from NSD (-):\n%s", m.Question[0], diff(w, g))
		}
	}
	t.Logf("%d queries pipelined on one connection", len(msgs))
}
