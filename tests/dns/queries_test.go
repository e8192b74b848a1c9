package dns

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// queryTypes are asked of every name: the types of the zones, ANY, DS (the
// parent side of a cut), and HINFO, which no zone holds. (NSEC3 is not: at
// a CNAME, NSD answers NODATA where Knot and morgana follow the CNAME.)
var queryTypes = []uint16{
	mdns.TypeA, mdns.TypeAAAA, mdns.TypeNS, mdns.TypeSOA, mdns.TypeMX, mdns.TypeTXT,
	mdns.TypeCNAME, mdns.TypeSRV, mdns.TypePTR, mdns.TypeCAA, mdns.TypeANY, mdns.TypeDS,
	mdns.TypeKX, mdns.TypeRT, mdns.TypeHINFO,
}

// extraNames are names the zones do not hold, each there for a reason.
var extraNames = []string{
	"nope.example.com.",                  // NXDOMAIN
	"a.b.nope.example.com.",              // NXDOMAIN, deeper
	"c.example.com.", "b.c.example.com.", // empty non-terminals
	"x.b.c.example.com.",                             // below an empty non-terminal
	"foo.wild.example.com.",                          // wildcard
	"a.b.wild.example.com.",                          // wildcard, two labels
	"x.host.wild.example.com.",                       // below a name beside the wildcard: NXDOMAIN
	"x.*.wild.example.com.",                          // below the wildcard itself
	"anything.cn.example.com.",                       // wildcard CNAME to an existing name
	"x.cnx.example.com.",                             // wildcard CNAME to nothing
	"x.sub.example.com.",                             // below a cut: referral
	"a.b.deleg.example.com.",                         // below a cut without glue
	"x.ns1.sub.example.com.",                         // below glue
	"anything.example.org.",                          // the apex wildcard of example.org
	"a.b.example.org.",                               // the same, deeper
	"www.child.example.org.", "x.child.example.org.", // the child zone
	"www.dn.example.org.", "nope.dn.example.org.", "x.cn.dn.example.org.", // DNAME
	"x.loopdn.example.org.",                                          // a DNAME loop
	"99.2.0.192.in-addr.arpa.",                                       // reverse, NXDOMAIN
	"example.net.", "www.example.net.", "com.", ".", "in-addr.arpa.", // not served: REFUSED
}

// queryNames returns the owner names of the zones of testdata and the
// extra names, and for every third name a mixed-case copy.
func queryNames(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, f := range zoneFiles {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		zp := mdns.NewZoneParser(strings.NewReader(string(data)), "", f)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			add(strings.ToLower(rr.Header().Name))
		}
		if err := zp.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range extraNames {
		add(n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i%3 == 0 && n != "." {
			names = append(names, mixCase(n))
		}
	}
	return names
}

// mixCase alternates the case of the letters of name.
func mixCase(name string) string {
	b := []byte(name)
	up := true
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			if up {
				b[i] = c - 'a' + 'A'
			}
			up = !up
		}
	}
	return string(b)
}

// ednsVariant is how a query is sent: without EDNS, or with an OPT record
// of some payload size and DO bit.
type ednsVariant struct {
	name string
	size uint16 // 0: no EDNS
	do   bool
}

var (
	noEDNS  = ednsVariant{"no-edns", 0, false}
	edns    = ednsVariant{"edns1232", 1232, false}
	allEDNS = []ednsVariant{noEDNS, edns, {"edns512", 512, false}, {"edns4096-do", 4096, true}, {"edns700", 700, false}}
)

func (v ednsVariant) query(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	if v.size != 0 {
		m.SetEdns0(v.size, v.do)
	}
	return m
}
