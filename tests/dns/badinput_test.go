package dns

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// badQueries are malformed or unusual messages, in wire form. Each is
// sent to morgana and NSD over UDP; they must agree on answering or not
// and on the answer's RCODE, flags and counts.
func badQueries(t *testing.T) map[string][]byte {
	t.Helper()
	q := func(name string, qtype uint16) []byte {
		m := new(mdns.Msg)
		m.SetQuestion(name, qtype)
		m.Id = 0x4242
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	edns := func(b []byte) []byte {
		b[11] = 1
		return append(b, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0)
	}
	hdr := []byte{0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	www := q("www.example.com.", mdns.TypeA)
	return map[string][]byte{
		"empty":                  {},
		"short header":           www[:7],
		"header only":            www[:12],
		"question cut short":     www[:20],
		"no type and class":      www[:len(www)-4],
		"a response":             cat([]byte{0x42, 0x42, 0x80, 0}, www[4:]),
		"opcode STATUS":          cat([]byte{0x42, 0x42, 0x10, 0}, www[4:]),
		"opcode UPDATE":          cat([]byte{0x42, 0x42, 0x28, 0}, www[4:]),
		"rcode set":              cat([]byte{0x42, 0x42, 0, 3}, www[4:]),
		"no question":            cat([]byte{0x42, 0x42, 0, 0, 0, 0}, www[6:]),
		"two questions":          cat([]byte{0x42, 0x42, 0, 0, 0, 2}, www[6:], www[12:]),
		"answer count":           cat([]byte{0x42, 0x42, 0, 0, 0, 1, 0, 1}, www[8:]),
		"pointer to itself":      cat(hdr, []byte{0xc0, 12, 0, 1, 0, 1}),
		"pointer loop":           cat(hdr, []byte{1, 'a', 0xc0, 12, 0, 1, 0, 1}),
		"pointer forward":        cat(hdr, []byte{0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 'a', 0}),
		"label type 0x40":        cat(hdr, []byte{0x41, 'a', 0, 0, 1, 0, 1}),
		"label past the end":     cat(hdr, []byte{63, 'a', 'b'}),
		"name of 256 bytes":      cat(hdr, bytes.Repeat(append([]byte{63}, bytes.Repeat([]byte{'a'}, 63)...), 4), []byte{0, 0, 1, 0, 1}),
		"EDNS":                   edns(q("www.example.com.", mdns.TypeA)),
		"OPT cut short":          edns(q("www.example.com.", mdns.TypeA))[:len(www)+6],
		"OPT rdata past the end": append(edns(q("www.example.com.", mdns.TypeA))[:len(www)+9], 0, 9),
		"OPT twice":              cat(edns(q("www.example.com.", mdns.TypeA))[:10], []byte{0, 2}, edns(q("www.example.com.", mdns.TypeA))[12:], edns(q("www.example.com.", mdns.TypeA))[len(www):]),
		"trailing garbage":       cat(www, []byte("garbage")),
		"oversized":              cat(www, make([]byte, 8000)),
		"class NONE":             cat(www[:len(www)-2], []byte{0, 254}),
		"type AXFR over UDP":     q("example.com.", mdns.TypeAXFR),
		"IXFR without SOA":       q("example.com.", mdns.TypeIXFR),
		"root":                   q(".", mdns.TypeNS),
	}
}

// summary is what is compared of an answer to a bad query.
func summary(b []byte) string {
	if b == nil {
		return "(no answer)"
	}
	if len(b) < 12 {
		return fmt.Sprintf("(%d bytes)", len(b))
	}
	m := new(mdns.Msg)
	if err := m.Unpack(b); err != nil {
		return fmt.Sprintf("undecodable: %v", err)
	}
	m.Id = 0
	m.Extra = nil // NSD's OPT may carry extended errors
	return fmt.Sprintf("id=%#x rcode=%s qd=%d an=%d ns=%d aa=%v tc=%v rd=%v opcode=%d",
		uint16(b[0])<<8|uint16(b[1]), mdns.RcodeToString[m.Rcode], len(m.Question), len(m.Answer), len(m.Ns),
		m.Authoritative, m.Truncated, m.RecursionDesired, m.Opcode)
}

// TestBadInput sends malformed and unusual messages to morgana and NSD:
// both must answer them the same way (or both drop them), and morgana must
// still answer a good query afterwards.
func TestBadInput(t *testing.T) {
	r := newReferee(t)
	// Where morgana departs from NSD by design, what it does instead.
	own := map[string]string{
		// A UDP query is a question and an OPT record: one longer than
		// 4096 bytes is not one, and gets no answer (NSD ignores the
		// trailing bytes and answers, Knot answers FORMERR).
		"oversized": "(no answer)",
	}
	// The queries that get no answer wait for a timeout: all at once.
	type result struct{ name, morgana, nsd string }
	results := make(chan result)
	queries := badQueries(t)
	for name, msg := range queries {
		go func() {
			results <- result{name,
				summary(r.morgana.rawExchange(t, msg, 300*time.Millisecond)),
				summary(r.nsd.rawExchange(t, msg, 300*time.Millisecond))}
		}()
	}
	for range queries {
		res := <-results
		name, got, want := res.name, res.morgana, res.nsd
		if w, ok := own[name]; ok {
			if got != w {
				t.Errorf("%s: morgana %s, want %s", name, got, w)
			}
			continue
		}
		if got != want {
			// Knot as the referee.
			if r.knot == nil {
				r.knot = startKnot(t)
			}
			k := summary(r.knot.rawExchange(t, queries[name], 300*time.Millisecond))
			if k == got {
				t.Logf("%s: NSD answers %s; morgana and Knot %s", name, want, got)
			} else {
				t.Errorf("%s: morgana %s, NSD %s, Knot %s", name, got, want, k)
			}
		}
	}
	m := new(mdns.Msg)
	m.SetQuestion("www.example.com.", mdns.TypeA)
	if a := r.morgana.exchange(t, "udp", m); a == nil || len(a.Answer) != 2 {
		t.Errorf("after the bad queries: %v", a)
	}
}
