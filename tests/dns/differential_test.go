package dns

import (
	"fmt"
	"testing"

	mdns "github.com/miekg/dns"
)

// referee compares morgana's answers with NSD's, and asks Knot where they
// differ: a difference Knot sides with morgana on is logged (NSD is then
// the odd one out), any other fails the test.
type referee struct {
	t                   *testing.T
	morgana, nsd        *server
	knot                *server // started at the first disagreement
	compared, knotSided int
}

func newReferee(t *testing.T) *referee {
	return &referee{t: t, morgana: startMorgana(t), nsd: startNSD(t)}
}

// check sends m over network to morgana and NSD and compares the answers.
// It returns morgana's.
func (r *referee) check(network string, m *mdns.Msg) *mdns.Msg {
	t := r.t
	t.Helper()
	got := r.morgana.exchange(t, network, m)
	want := r.nsd.exchange(t, network, m)
	r.compared++
	g, w := normalize(got), normalize(want)
	if g == w {
		return got
	}
	if r.knot == nil {
		r.knot = startKnot(t)
	}
	k := normalize(r.knot.exchange(t, network, m))
	what := fmt.Sprintf("%s %s (%s)", network, m.Question[0].String(), ednsOf(m))
	if k == g {
		r.knotSided++
		t.Logf("%s: NSD differs, Knot agrees with morgana:\n%s", what, diff(w, g))
		return got
	}
	t.Errorf("%s: morgana (+) differs from NSD (-), and Knot does not agree:\n%s\nKnot's:\n%s", what, diff(w, g), k)
	return got
}

func ednsOf(m *mdns.Msg) string {
	if o := m.IsEdns0(); o != nil {
		return fmt.Sprintf("EDNS %d do=%v", o.UDPSize(), o.Do())
	}
	return "no EDNS"
}

// TestDifferential compares, over UDP, every name of the zones (and names
// they do not hold) with every type of query, without and with EDNS; every
// truncated answer again over TCP; and then payload sizes and the DO bit on
// a few types.
func TestDifferential(t *testing.T) {
	r := newReferee(t)
	names := queryNames(t)
	tcp := 0
	for _, name := range names {
		for _, qt := range queryTypes {
			variants := []ednsVariant{noEDNS, edns}
			if qt == mdns.TypeTXT || qt == mdns.TypeA || qt == mdns.TypeANY {
				variants = allEDNS
			}
			for _, v := range variants {
				m := v.query(name, qt)
				if got := r.check("udp", m); got != nil && got.Truncated {
					r.check("tcp", m)
					tcp++
				}
			}
		}
	}
	if tcp == 0 {
		t.Error("no answer was truncated: the zones should have a few that are")
	}
	t.Logf("%d queries compared (%d names, %d over TCP after TC); %d differences where Knot sides with morgana",
		r.compared, len(names), tcp, r.knotSided)
}

// TestDifferentialOddQueries compares the answers to queries a client
// rarely sends: other classes, other opcodes, zone transfers over UDP,
// unusual EDNS.
func TestDifferentialOddQueries(t *testing.T) {
	r := newReferee(t)
	type tweak func(*mdns.Msg)
	tests := []struct {
		name  string
		qname string
		qtype uint16
		tweak tweak
	}{
		{"class CH", "example.com.", mdns.TypeA, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS }},
		{"class CH version.bind", "version.bind.", mdns.TypeTXT, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS }},
		{"class ANY", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassANY }},
		{"class ANY nxdomain", "nope.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassANY }},
		{"class 42", "example.com.", mdns.TypeA, func(m *mdns.Msg) { m.Question[0].Qclass = 42 }},
		{"RD set", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.RecursionDesired = true }},
		{"CD set", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.CheckingDisabled = true }},
		{"AD set", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.AuthenticatedData = true }},
		{"AXFR over UDP", "example.com.", mdns.TypeAXFR, nil},
		{"type 0", "www.example.com.", 0, nil},
		{"type OPT", "www.example.com.", mdns.TypeOPT, nil},
		{"type 65280", "www.example.com.", 65280, nil},
		{"EDNS version 1", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }},
		{"EDNS tiny payload", "big.example.com.", mdns.TypeTXT, func(m *mdns.Msg) { m.SetEdns0(100, false) }},
		{"EDNS with an option", "www.example.com.", mdns.TypeA, func(m *mdns.Msg) {
			m.SetEdns0(1232, false)
			o := m.IsEdns0()
			o.Option = append(o.Option, &mdns.EDNS0_PADDING{Padding: make([]byte, 8)})
		}},
	}
	for _, tt := range tests {
		m := new(mdns.Msg)
		m.SetQuestion(tt.qname, tt.qtype)
		m.RecursionDesired = false
		if tt.tweak != nil {
			tt.tweak(m)
		}
		r.check("udp", m)
	}
	t.Logf("%d queries compared; %d differences where Knot sides with morgana", r.compared, r.knotSided)
}
