package answer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
	"github.com/morgana-os/morgana/dns/zone"
)

// reference builds the response to (name, qtype) directly from the
// lookup, without the table: what every stored answer must decode to.
func reference(tab *Table, name string, qtype uint16) *dns.Msg {
	resp := tab.res.Lookup(zone.MustKey(name), qtype, dns.ClassINET)
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Response, m.Authoritative, m.Rcode = true, resp.AA, resp.Rcode
	for _, s := range resp.Sets {
		for _, rr := range s.RRs {
			rr = dns.Copy(rr)
			rr.Header().Name = lookup.KeyName(s.Owner)
			switch s.Section.Counted() {
			case 0:
				m.Answer = append(m.Answer, rr)
			case 1:
				m.Ns = append(m.Ns, rr)
			default:
				m.Extra = append(m.Extra, rr)
			}
		}
	}
	return m
}

// text renders a message for comparison: flags, then every record in
// order, names lowered (owners take the case of the question).
func text(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%d rcode=%d aa=%v tc=%v qr=%v\n", m.Id, m.Rcode, m.Authoritative, m.Truncated, m.Response)
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if _, ok := rr.(*dns.OPT); ok {
				continue
			}
			b.WriteString(strings.ToLower(rr.String()) + "\n")
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// TestRespondMatchesLookup checks every stored answer against the lookup
// it was made from: over TCP (never truncated), the response must decode
// to exactly the lookup's records, in the same order, whatever the case
// and length of the name asked (relocated compression pointers included).
func TestRespondMatchesLookup(t *testing.T) {
	tab := testTable(t)
	n := 0
	for _, name := range testNames {
		for _, qt := range testTypes {
			got, _ := respond(t, tab, pack(t, name, qt, 0, false), TCP)
			want := reference(tab, name, qt)
			want.Id = 0x1234
			if text(got) != text(want) {
				t.Errorf("%s %s:\ngot:\n%swant:\n%s", name, dns.TypeToString[qt], text(got), text(want))
			}
			if got.Question[0].Name != name {
				t.Errorf("%s: question %s, want the case kept", name, got.Question[0].Name)
			}
			n++
		}
	}
	t.Logf("%d answers checked", n)
}

// TestRespondNameLengths asks names of every length below the apex, a
// wildcard and a cut: the templates stored for them are relocated by the
// difference of length.
func TestRespondNameLengths(t *testing.T) {
	tab := testTable(t)
	for _, suffix := range []string{"example.com.", "wild.example.com.", "sub.example.com.", "example.org."} {
		label := ""
		for l := 1; len(label)+len(suffix) < 250; l++ {
			label = strings.Repeat("x", l%63+1) + "." + label
			name := label + suffix
			if len(name) > 253 {
				break
			}
			for _, qt := range []uint16{dns.TypeA, dns.TypeMX} {
				got, _ := respond(t, tab, pack(t, name, qt, 1232, false), UDP)
				want := reference(tab, name, qt)
				want.Id = 0x1234
				if !got.Truncated && text(got) != text(want) {
					t.Fatalf("%s %s:\ngot:\n%swant:\n%s", name, dns.TypeToString[qt], text(got), text(want))
				}
			}
		}
	}
}

func TestRespondHeader(t *testing.T) {
	tab := testTable(t)
	var q wire.Query
	msg := pack(t, "www.example.com.", dns.TypeA, 0, false)
	wire.PutUint16(msg[2:], wire.FlagRD|wire.FlagCD|wire.FlagAD)
	b, _ := tab.Respond(make([]byte, MaxUDPSize), msg, &q, UDP)
	flags := wire.Uint16(b[2:])
	if want := wire.FlagQR | wire.FlagAA | wire.FlagRD; flags != want {
		t.Errorf("flags %#04x, want %#04x (QR, AA, RD copied; CD and AD cleared, as NSD)", flags, want)
	}
	if wire.Uint16(b) != 0x1234 {
		t.Errorf("ID %#04x", wire.Uint16(b))
	}
}

func TestRespondSpecial(t *testing.T) {
	tab := testTable(t)
	withFlags := func(flags uint16, m []byte) []byte { wire.PutUint16(m[2:], flags); return m }
	withClass := func(class uint16, m []byte) []byte { wire.PutUint16(m[len(m)-2:], class); return m }
	badvers := pack(t, "www.example.com.", dns.TypeA, 1232, true)
	badvers[len(badvers)-5] = 1 // OPT version
	tests := []struct {
		name   string
		msg    []byte
		tr     Transport
		rcode  int // -1: no answer
		qd, an int
		tc     bool
		opt    bool
	}{
		{"big TXT, no EDNS", pack(t, "big.example.com.", dns.TypeTXT, 0, false), UDP, 0, 1, 0, true, false},
		{"big TXT, EDNS", pack(t, "big.example.com.", dns.TypeTXT, 1232, false), UDP, 0, 1, 1, false, true},
		{"big TXT, EDNS 512", pack(t, "big.example.com.", dns.TypeTXT, 512, false), UDP, 0, 1, 0, true, true},
		{"big TXT, TCP", pack(t, "big.example.com.", dns.TypeTXT, 0, false), TCP, 0, 1, 1, false, false},
		{"100 A, EDNS", pack(t, "many.example.com.", dns.TypeA, 4096, false), UDP, 0, 1, 0, true, true},
		{"100 A, TCP", pack(t, "many.example.com.", dns.TypeA, 4096, false), TCP, 0, 1, 100, false, true},
		{"out of zone", pack(t, "example.net.", dns.TypeA, 0, false), UDP, dns.RcodeRefused, 1, 0, false, false},
		{"class CH", withClass(dns.ClassCHAOS, pack(t, "version.bind.", dns.TypeTXT, 0, false)), UDP, dns.RcodeRefused, 1, 0, false, false},
		{"class ANY", withClass(dns.ClassANY, pack(t, "www.example.com.", dns.TypeA, 0, false)), UDP, 0, 1, 2, false, false},
		{"AXFR over UDP", pack(t, "example.com.", dns.TypeAXFR, 0, false), UDP, dns.RcodeNotImplemented, 1, 0, false, false},
		{"AXFR, not a zone", pack(t, "www.example.com.", dns.TypeAXFR, 0, false), TCP, dns.RcodeNotAuth, 1, 0, false, false},
		{"AXFR refused", pack(t, "example.com.", dns.TypeAXFR, 0, false), TCP, dns.RcodeRefused, 1, 0, false, false},
		{"EDNS version 1", badvers, UDP, dns.RcodeBadVers, 1, 0, false, true},
		{"opcode STATUS", withFlags(2<<11, pack(t, "example.com.", dns.TypeA, 0, false)), UDP, dns.RcodeNotImplemented, 0, 0, false, false},
		{"two questions", append(withFlags(0, pack(t, "example.com.", dns.TypeA, 0, false)[:4]), 0, 2, 0, 0, 0, 0, 0, 0), UDP, dns.RcodeFormatError, 0, 0, false, false},
		{"a response", withFlags(wire.FlagQR, pack(t, "example.com.", dns.TypeA, 0, false)), UDP, -1, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, b := respond(t, tab, tt.msg, tt.tr)
			if tt.rcode < 0 {
				if m != nil {
					t.Fatalf("answered %v, want no answer", m)
				}
				return
			}
			if m == nil {
				t.Fatal("no answer")
			}
			if m.Rcode != tt.rcode || len(m.Question) != tt.qd || len(m.Answer) != tt.an || m.Truncated != tt.tc || (m.IsEdns0() != nil) != tt.opt {
				t.Errorf("rcode %d, %d questions, %d answers, TC %v, OPT %v; want %d, %d, %d, %v, %v\n%v",
					m.Rcode, len(m.Question), len(m.Answer), m.Truncated, m.IsEdns0() != nil, tt.rcode, tt.qd, tt.an, tt.tc, tt.opt, m)
			}
			limit := wire.MaxMessage
			if tt.tr == UDP {
				limit = wire.MinUDPSize
				if o := m.IsEdns0(); o != nil {
					limit = MaxUDPSize
				}
			}
			if len(b) > limit {
				t.Errorf("%d bytes, beyond %d", len(b), limit)
			}
		})
	}
}

// TestRespondAllocs pins the hot path: answering from the table allocates
// nothing, whatever the answer (exact, negative, wildcard, referral,
// truncated, errors).
func TestRespondAllocs(t *testing.T) {
	tab := testTable(t)
	var msgs [][]byte
	for _, name := range []string{"www.example.com.", "nope.example.com.", "foo.wild.example.com.",
		"x.sub.example.com.", "big.example.com.", "WwW.ExAmPlE.CoM.", "example.net.", "x.cn.example.com."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeMX} {
			msgs = append(msgs, pack(t, name, qt, 0, false), pack(t, name, qt, 1232, true))
		}
	}
	msgs = append(msgs, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	var q wire.Query
	dst := make([]byte, MaxUDPSize)
	for _, m := range msgs {
		if n := testing.AllocsPerRun(50, func() { tab.Respond(dst, m, &q, UDP) }); n != 0 {
			t.Errorf("%x: %v allocations per query", m, n)
		}
	}
}

func BenchmarkRespond(b *testing.B) {
	tab := testTable(b)
	msgs := [][]byte{
		pack(b, "www.example.com.", dns.TypeA, 0, false),
		pack(b, "nope.example.com.", dns.TypeA, 1232, false),
		pack(b, "foo.wild.example.com.", dns.TypeMX, 0, false),
		pack(b, "x.sub.example.com.", dns.TypeA, 0, false),
	}
	var q wire.Query
	dst := make([]byte, MaxUDPSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Respond(dst, msgs[i%len(msgs)], &q, UDP)
	}
}

// TestRespondCompression checks which rdata names are compressed: those of
// the types of RFC 1035, as NSD; never those of later types (RFC 3597 §4).
func TestRespondCompression(t *testing.T) {
	const text = `$ORIGIN example.com.
$TTL 3600
@     SOA   ns1 hostmaster 1 7200 3600 1209600 300
      NS    ns1
ns1   A     192.0.2.53
a     MB    mail
a     MG    mail
a     MR    mail
a     MINFO hostmaster mail
a     MX    10 mail
a     KX    10 mail
a     RT    10 mail
`
	z, err := zone.Read(strings.NewReader(text), "compression")
	if err != nil {
		t.Fatal(err)
	}
	set, err := zone.NewSet(z)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		qtype uint16
		rdlen uint16
	}{
		{dns.TypeMB, 7}, // "mail" and a pointer
		{dns.TypeMG, 7},
		{dns.TypeMR, 7},
		{dns.TypeMINFO, 20},
		{dns.TypeMX, 9},
		{dns.TypeKX, 20}, // uncompressed: 2 + 18
		{dns.TypeRT, 20},
	}
	for _, tt := range tests {
		m, _ := respond(t, tab, pack(t, "a.example.com.", tt.qtype, 0, false), UDP)
		if m == nil || len(m.Answer) != 1 {
			t.Fatalf("%s: %v", dns.TypeToString[tt.qtype], m)
		}
		if got := m.Answer[0].Header().Rdlength; got != tt.rdlen {
			t.Errorf("%s: rdata of %d bytes, want %d", dns.TypeToString[tt.qtype], got, tt.rdlen)
		}
	}
}
