package lookup

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/zone"
)

const parentZone = `$ORIGIN example.com.
$TTL 3600
@        SOA   ns1 hostmaster 1 7200 3600 1209600 300
         NS    ns1
         MX    10 mail
         A     192.0.2.1
ns1      A     192.0.2.53
mail     A     192.0.2.25
www      A     192.0.2.80
         TXT   "hello"
alias    CNAME www
ext      CNAME www.example.org.
loop1    CNAME loop2
loop2    CNAME loop1
*.wild   A     192.0.2.200
*.wc     CNAME www
a.b.c    A     192.0.2.5
sub      NS    ns.sub
ns.sub   A     192.0.2.131
child    NS    ns1
dn       DNAME example.org.
kx       KX    10 mail
rt       RT    10 relay
relay    A     192.0.2.26
         X25   311061700956
mb       MB    mail
`

const childZone = `$ORIGIN child.example.com.
@        600 SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 60
         600 NS  ns1.example.com.
www      600 A   198.51.100.1
`

const orgZone = `$ORIGIN example.org.
$TTL 3600
@        SOA   ns1.example.com. hostmaster 1 3600 900 604800 3600
         NS    ns1.example.com.
www      A     203.0.113.80
`

func resolver(t *testing.T) *Resolver {
	t.Helper()
	var zones []*zone.Zone
	for name, text := range map[string]string{"parent": parentZone, "child": childZone, "org": orgZone} {
		z, err := zone.Read(strings.NewReader(text), name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	set, err := zone.NewSet(zones...)
	if err != nil {
		t.Fatal(err)
	}
	return New(set)
}

// render writes a response as "RCODE flags | section owner TYPE ..." lines.
func render(r *Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", dns.RcodeToString[r.Rcode])
	if r.AA {
		b.WriteString(" aa")
	}
	for _, s := range r.Sets {
		fmt.Fprintf(&b, " | %d %s %s", s.Section, KeyName(s.Owner), dns.TypeToString[s.RRs[0].Header().Rrtype])
	}
	return b.String()
}

func TestLookup(t *testing.T) {
	r := resolver(t)
	tests := []struct {
		name  string
		qtype uint16
		want  string
		kind  Kind
	}{
		{"www.example.com.", dns.TypeA, "NOERROR aa | 0 www.example.com. A | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"WWW.Example.COM.", dns.TypeA, "NOERROR aa | 0 www.example.com. A | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"www.example.com.", dns.TypeMX, "NOERROR aa | 1 example.com. SOA", Negative},
		{"nope.example.com.", dns.TypeA, "NXDOMAIN aa | 1 example.com. SOA", Negative},
		{"b.c.example.com.", dns.TypeA, "NOERROR aa | 1 example.com. SOA", Negative}, // empty non-terminal
		{"x.b.c.example.com.", dns.TypeA, "NXDOMAIN aa | 1 example.com. SOA", Negative},
		{"example.com.", dns.TypeMX, "NOERROR aa | 0 example.com. MX | 2 example.com. NS | 3 mail.example.com. A | 3 ns1.example.com. A", Specific},
		{"kx.example.com.", dns.TypeKX, "NOERROR aa | 0 kx.example.com. KX | 2 example.com. NS | 3 mail.example.com. A | 3 ns1.example.com. A", Specific},
		{"rt.example.com.", dns.TypeRT, "NOERROR aa | 0 rt.example.com. RT | 2 example.com. NS | 3 relay.example.com. A | 3 ns1.example.com. A | 5 relay.example.com. X25", Specific},
		{"mb.example.com.", dns.TypeMB, "NOERROR aa | 0 mb.example.com. MB | 2 example.com. NS | 3 mail.example.com. A | 3 ns1.example.com. A", Specific},
		{"example.com.", dns.TypeANY, "NOERROR aa | 0 example.com. SOA", Specific},
		{"www.example.com.", dns.TypeANY, "NOERROR aa | 0 www.example.com. A", Specific},
		{"alias.example.com.", dns.TypeA, "NOERROR aa | 0 alias.example.com. CNAME | 0 www.example.com. A | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"alias.example.com.", dns.TypeCNAME, "NOERROR aa | 0 alias.example.com. CNAME | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"ext.example.com.", dns.TypeA, "NOERROR aa | 0 ext.example.com. CNAME | 0 www.example.org. A | 2 example.org. NS", Specific},
		{"loop1.example.com.", dns.TypeA, "NOERROR aa | 0 loop1.example.com. CNAME | 0 loop2.example.com. CNAME", Specific},
		{"x.wild.example.com.", dns.TypeA, "NOERROR aa | 0 x.wild.example.com. A | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"x.wild.example.com.", dns.TypeTXT, "NOERROR aa | 1 example.com. SOA", Negative},
		{"a.wc.example.com.", dns.TypeTXT, "NOERROR aa | 0 a.wc.example.com. CNAME | 0 www.example.com. TXT | 2 example.com. NS | 3 ns1.example.com. A", Specific},
		{"sub.example.com.", dns.TypeA, "NOERROR | 1 sub.example.com. NS | 3 ns.sub.example.com. A", Referral},
		{"x.y.sub.example.com.", dns.TypeMX, "NOERROR | 1 sub.example.com. NS | 3 ns.sub.example.com. A", Referral},
		{"sub.example.com.", dns.TypeDS, "NOERROR aa | 1 example.com. SOA", Negative},
		{"child.example.com.", dns.TypeDS, "NOERROR aa | 1 example.com. SOA", Negative}, // from the parent side
		{"child.example.com.", dns.TypeNS, "NOERROR aa | 0 child.example.com. NS", Specific},
		{"www.child.example.com.", dns.TypeA, "NOERROR aa | 0 www.child.example.com. A | 2 child.example.com. NS", Specific},
		{"www.dn.example.com.", dns.TypeA, "NOERROR aa | 0 dn.example.com. DNAME | 0 www.dn.example.com. CNAME | 0 www.example.org. A | 2 example.org. NS", Specific},
		{"example.net.", dns.TypeA, "REFUSED", Specific},
	}
	for _, tt := range tests {
		resp := r.Lookup(zone.MustKey(tt.name), tt.qtype, dns.ClassINET)
		if got := render(resp); got != tt.want || resp.Kind != tt.kind {
			t.Errorf("%s %s:\n got %s (kind %d)\nwant %s (kind %d)", tt.name, dns.TypeToString[tt.qtype], got, resp.Kind, tt.want, tt.kind)
		}
	}
}

func TestLookupNegativeTTL(t *testing.T) {
	r := resolver(t)
	resp := r.Lookup(zone.MustKey("nope.example.com."), dns.TypeA, dns.ClassINET)
	if ttl := resp.Sets[0].RRs[0].Header().Ttl; ttl != 300 {
		t.Errorf("negative SOA TTL = %d, want 300 (the lesser of TTL and MINIMUM, RFC 2308 §5)", ttl)
	}
}

func TestLookupClassANY(t *testing.T) {
	r := resolver(t)
	resp := r.Lookup(zone.MustKey("nope.example.com."), dns.TypeA, dns.ClassANY)
	if got := render(resp); got != "NXDOMAIN" {
		t.Errorf("QCLASS ANY NXDOMAIN: %s, want no AA and no SOA (as NSD)", got)
	}
}
