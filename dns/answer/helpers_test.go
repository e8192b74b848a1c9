package answer

import (
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/wire"
	"github.com/morgana-os/morgana/dns/zone"
)

// testTable builds the table of the zones in testdata.
func testTable(t testing.TB) *Table {
	t.Helper()
	files, err := filepath.Glob("testdata/*.zone")
	if err != nil || len(files) == 0 {
		t.Fatalf("no zones in testdata: %v", err)
	}
	var zones []*zone.Zone
	for _, f := range files {
		z, err := zone.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	set, err := zone.NewSet(zones...)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// pack returns the wire form of a query.
func pack(t testing.TB, name string, qtype uint16, edns uint16, do bool) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	if edns != 0 {
		m.SetEdns0(edns, do)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// respond answers msg and unpacks the answer.
func respond(t testing.TB, tab *Table, msg []byte, tr Transport) (*dns.Msg, []byte) {
	t.Helper()
	var q wire.Query
	size := MaxUDPSize
	if tr == TCP {
		size = BufferSize
	}
	b, _ := tab.Respond(make([]byte, size), msg, &q, tr)
	if b == nil {
		return nil, nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("response to %x does not unpack: %v\n% x", msg, err, b)
	}
	return m, b
}

// names and types the tests ask about: the zones' own names, names that do
// not exist, below cuts, matched by wildcards, below a DNAME, and with
// names of every length below the apex.
var (
	testNames = []string{
		"example.com.", "www.example.com.", "WwW.ExAmPlE.cOm.", "ns1.example.com.", "mail.example.com.",
		"alias.example.com.", "chain1.example.com.", "dangling.example.com.", "ext.example.com.",
		"extout.example.com.", "loop1.example.com.", "_sip._udp.example.com.", "big.example.com.",
		"many.example.com.", "mixed.case.example.com.", "upper.example.com.", "nope.example.com.",
		"a.b.c.example.com.", "b.c.example.com.", "x.b.c.example.com.", "foo.wild.example.com.",
		"A.Much.Longer.Name.Under.WILD.example.com.", "*.wild.example.com.", "host.wild.example.com.",
		"x.cn.example.com.", "x.cnx.example.com.", "sub.example.com.", "x.sub.example.com.",
		"a.very.long.name.below.the.cut.sub.example.com.", "ns1.sub.example.com.", "deleg.example.com.",
		"tocut.example.com.", "example.org.", "www.example.org.", "anything.example.org.",
		"www.dn.example.org.", "example.net.", ".",
	}
	testTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT,
		dns.TypeCNAME, dns.TypeSRV, dns.TypeCAA, dns.TypeANY, dns.TypeDS, dns.TypeHINFO}
)
