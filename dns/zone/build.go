package zone

import (
	"errors"

	"github.com/miekg/dns"
)

// builder assembles a Zone from parsed records, checking each as it goes.
type builder struct {
	z     *Zone
	file  string
	lines map[*Node]int // first line of each node that owns records
}

func build(recs []record, file string) (*Zone, error) {
	if len(recs) == 0 {
		return nil, &Error{File: file, Line: 1, Err: errors.New("no records: a zone starts with its SOA")}
	}
	first := recs[0]
	soa, ok := first.rr.(*dns.SOA)
	if !ok {
		return nil, errorf(file, first.line, "the first record must be the zone's SOA, not %s", dns.TypeToString[first.rr.Header().Rrtype])
	}
	origin := dns.CanonicalName(soa.Hdr.Name)
	apexKey, err := Key(origin)
	if err != nil {
		return nil, errorf(file, first.line, "%v", err)
	}
	b := &builder{
		z:     &Zone{Origin: origin, File: file, SOA: soa, nodes: map[string]*Node{}},
		file:  file,
		lines: map[*Node]int{},
	}
	b.z.Apex = &Node{Name: origin, Key: apexKey}
	b.z.nodes[apexKey] = b.z.Apex
	b.z.order = append(b.z.order, b.z.Apex)
	for i, r := range recs {
		if err := b.add(r, i == 0); err != nil {
			return nil, err
		}
	}
	if err := b.check(first.line); err != nil {
		return nil, err
	}
	return b.z, nil
}

// add checks one record and files it under its node.
func (b *builder) add(r record, first bool) error {
	h := r.rr.Header()
	typ := dns.Type(h.Rrtype).String()
	if h.Class != dns.ClassINET {
		return errorf(b.file, r.line, "class %s: only IN is served", dns.ClassToString[h.Class])
	}
	h.Name = dns.CanonicalName(h.Name)
	key, err := Key(h.Name)
	if err != nil {
		return errorf(b.file, r.line, "%v", err)
	}
	if !b.z.Contains(key) {
		return errorf(b.file, r.line, "%s is out of zone %s", h.Name, b.z.Origin)
	}
	switch h.Rrtype {
	case dns.TypeSOA:
		if !first {
			if key == b.z.Apex.Key {
				return errorf(b.file, r.line, "a second SOA record")
			}
			return errorf(b.file, r.line, "SOA record at %s, below the apex", h.Name)
		}
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeIXFR, dns.TypeAXFR, dns.TypeANY:
		return errorf(b.file, r.line, "%s is not a record type for zone data", dns.Type(h.Rrtype))
	}
	n := b.node(key, h.Name)
	if _, seen := b.lines[n]; !seen {
		b.lines[n] = r.line
	}
	set := n.RRset(h.Rrtype)
	if n.IsWildcard() && (h.Rrtype == dns.TypeNS || h.Rrtype == dns.TypeDNAME) {
		return errorf(b.file, r.line, "%s at the wildcard %s (RFC 4592 §4.2, §4.4)", typ, h.Name)
	}
	if set == nil && conflictsWithCNAME(n, h.Rrtype) {
		return errorf(b.file, r.line, "CNAME and other data at %s (RFC 1034 §3.6.2)", h.Name)
	}
	if set == nil {
		set = &RRset{Type: h.Rrtype}
		n.Sets = append(n.Sets, set)
	}
	for _, old := range set.RRs {
		if dns.IsDuplicate(old, r.rr) {
			return nil // RRsets are sets (RFC 2181 §5)
		}
	}
	if len(set.RRs) > 0 && (h.Rrtype == dns.TypeCNAME || h.Rrtype == dns.TypeDNAME) {
		return errorf(b.file, r.line, "more than one %s record at %s", typ, h.Name)
	}
	set.RRs = append(set.RRs, r.rr)
	return nil
}

// node returns the node of key, creating it and any missing empty
// non-terminals between it and the apex.
func (b *builder) node(key, name string) *Node {
	if n := b.z.nodes[key]; n != nil {
		return n
	}
	off, _ := dns.NextLabel(name, 0)
	parent := b.node(parentKey(key), name[off:])
	n := &Node{Name: name, Key: key, Parent: parent}
	b.z.nodes[key] = n
	b.z.order = append(b.z.order, n)
	return n
}

// check makes the checks that need the whole zone.
func (b *builder) check(soaLine int) error {
	z := b.z
	if z.Apex.RRset(dns.TypeNS) == nil {
		return errorf(b.file, soaLine, "no NS records at the apex %s", z.Origin)
	}
	parents := map[*Node]bool{}
	for _, n := range z.order {
		parents[n.Parent] = true
		if len(n.Sets) == 0 {
			continue
		}
		if d := z.DNAMEAbove(n); d != nil {
			return errorf(b.file, b.lines[n], "%s is below the DNAME at %s (RFC 6672 §2.3)", n.Name, d.Name)
		}
	}
	// A name with only NSEC3 records and nothing below does not exist for
	// queries (RFC 5155 §7.2.8): it stays in order, for transfers.
	for _, n := range z.order {
		if !parents[n] && onlyNSEC3(n) {
			delete(z.nodes, n.Key)
		}
	}
	return nil
}

// onlyNSEC3 reports whether n holds NSEC3 records and nothing else but
// signatures (NSD's domain_has_only_NSEC3).
func onlyNSEC3(n *Node) bool {
	if n.RRset(dns.TypeNSEC3) == nil {
		return false
	}
	for _, s := range n.Sets {
		if s.Type != dns.TypeNSEC3 && s.Type != dns.TypeRRSIG {
			return false
		}
	}
	return true
}

// conflictsWithCNAME reports whether an RRset of type t may not be added to
// n because of a CNAME: a CNAME stands alone, but for its DNSSEC records
// (RFC 1034 §3.6.2, RFC 4035 §2.5).
func conflictsWithCNAME(n *Node, t uint16) bool {
	dnssec := func(t uint16) bool { return t == dns.TypeRRSIG || t == dns.TypeNSEC }
	if dnssec(t) {
		return false
	}
	for _, s := range n.Sets {
		if (t == dns.TypeCNAME) != (s.Type == dns.TypeCNAME) && !dnssec(s.Type) {
			return true
		}
	}
	return false
}
