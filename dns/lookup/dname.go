package lookup

import (
	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/zone"
)

// dname answers a name below the DNAME at d (RFC 6672 §3.2): the DNAME, a
// CNAME synthesised from it, and the lookup of the new name. The
// synthesised CNAME depends on the query name, so such answers are never
// stored: they are computed per query.
func (st *state) dname(key string, d *zone.Node) {
	set := d.RRset(dns.TypeDNAME)
	rr := set.RRs[0].(*dns.DNAME)
	target, err := zone.Key(rr.Target)
	if err != nil {
		return
	}
	if !st.add(Answer, d.Key, set) && isSub(target, d.Key) {
		return // a DNAME loop
	}
	newKey := key[:len(key)-len(d.Key)] + target
	if len(newKey) > 255 {
		st.resp.Rcode = dns.RcodeYXDomain // RFC 6672 §2.2
		return
	}
	st.chain++
	cname := &dns.CNAME{
		Hdr:    dns.RR_Header{Name: KeyName(key), Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: rr.Hdr.Ttl},
		Target: KeyName(newKey),
	}
	for _, s := range st.resp.Sets {
		if c, ok := s.RRs[0].(*dns.CNAME); ok && s.Owner == key && c.Target == cname.Target {
			return // the same CNAME synthesised twice: a loop
		}
	}
	st.add(Answer, key, &zone.RRset{Type: dns.TypeCNAME, RRs: []dns.RR{cname}})
	if st.qtype == dns.TypeCNAME || st.chain >= maxChain {
		return
	}
	z := st.zone
	st.lookupZone(newKey)
	st.zone = z
}

// KeyName returns the presentation form of the name with key.
func KeyName(key string) string {
	name, _, err := dns.UnpackDomainName([]byte(key), 0)
	if err != nil {
		return "."
	}
	return name
}

func isSub(k, parent string) bool {
	return len(k) >= len(parent) && k[len(k)-len(parent):] == parent &&
		(len(k) == len(parent) || labelBoundary(k, len(k)-len(parent)))
}

// labelBoundary reports whether a label of the key k starts at offset off.
func labelBoundary(k string, off int) bool {
	for i := 0; i < len(k) && i <= off; i += 1 + int(k[i]) {
		if i == off {
			return true
		}
	}
	return false
}
