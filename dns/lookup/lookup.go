package lookup

import (
	"sort"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/zone"
)

// maxChain bounds the CNAME and DNAME records followed for one query. Loops
// stop earlier, when a set would be added twice; this is for chains of
// DNAMEs that grow the name.
const maxChain = 16

// Resolver answers questions from a set of zones. It is read-only and safe
// for concurrent use.
type Resolver struct {
	set    *zone.Set
	negSOA map[*zone.Zone]*zone.RRset
}

// New returns a resolver over set.
func New(set *zone.Set) *Resolver {
	r := &Resolver{set: set, negSOA: map[*zone.Zone]*zone.RRset{}}
	for _, z := range set.Zones() {
		soa := dns.Copy(z.SOA).(*dns.SOA)
		soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
		r.negSOA[z] = &zone.RRset{Type: dns.TypeSOA, RRs: []dns.RR{soa}}
	}
	return r
}

// Set returns the zones r answers from.
func (r *Resolver) Set() *zone.Set { return r.set }

// Lookup answers the question (key, qtype, qclass); key is the query name's
// key (zone.Key). qclass is IN or ANY.
func (r *Resolver) Lookup(key string, qtype, qclass uint16) *Response {
	st := &state{r: r, qtype: qtype, qclass: qclass, resp: &Response{}}
	st.lookupZone(key)
	resp := st.resp
	sort.SliceStable(resp.Sets, func(i, j int) bool { return resp.Sets[i].Section < resp.Sets[j].Section })
	resp.Zone = st.zone
	if st.chain == 0 {
		switch {
		case st.cut != nil && !resp.AA:
			resp.Kind, resp.Cut = Referral, st.cut
		case len(resp.Sets) == 1 && resp.Sets[0].src == r.negSOA[st.zone]:
			resp.Kind = Negative
		}
	}
	return resp
}

// state is one lookup under way.
type state struct {
	r             *Resolver
	qtype, qclass uint16
	resp          *Response
	zone          *zone.Zone
	cut           *zone.Node
	chain         int // CNAME and DNAME records followed
}

// lookupZone finds the zone of the name with key and answers from it (NSD's
// answer_lookup_zone).
func (st *state) lookupZone(key string) {
	z := st.r.set.Find(key)
	if z == nil {
		if st.chain == 0 {
			st.resp.Rcode = dns.RcodeRefused
		}
		return
	}
	st.zone = z
	ce, exact := z.ClosestEncloser(key)
	ds := exact && st.qtype == dns.TypeDS
	if ds && ce == z.Apex {
		// DS belongs to the parent side of the cut (RFC 4035 §3.1.4.1).
		if p := st.r.set.Parent(z); p != nil {
			z = p
			st.zone = p
			ce, exact = z.ClosestEncloser(key)
		}
		if exact && ce == z.Apex {
			st.resp.AA = st.qclass != dns.ClassANY
			st.nodata()
			return
		}
	}
	cut := z.Cut(ce)
	if cut != nil && z.DNAMEAbove(cut) != nil {
		cut = nil
	}
	if cut != nil {
		st.resp.Delegation = true
	}
	if cut == nil || (ds && ce == cut) {
		st.resp.AA = st.qclass != dns.ClassANY
		st.authoritative(key, ce, exact)
		return
	}
	// A referral; authoritative only for the CNAMEs that led here.
	st.cut = cut
	st.resp.AA = st.chain > 0
	st.add(Authority, cut.Key, cut.RRset(dns.TypeNS))
}

// authoritative answers from the authoritative data of st.zone: the node
// itself, a DNAME above it, a wildcard, or NXDOMAIN.
func (st *state) authoritative(key string, ce *zone.Node, exact bool) {
	z := st.zone
	if d := z.DNAMEAbove(ce); d != nil {
		ce, exact = d, false
	}
	switch {
	case exact:
		st.node(ce.Key, ce)
	case ce.RRset(dns.TypeDNAME) != nil:
		st.dname(key, ce)
	case z.Wildcard(ce) != nil:
		st.node(key, z.Wildcard(ce))
	default:
		st.resp.Rcode = dns.RcodeNameError
		st.soa()
	}
}

// node answers from the RRsets of n, written with owner (NSD's
// answer_domain).
func (st *state) node(owner string, n *zone.Node) {
	switch set := n.RRset(st.qtype); {
	case st.qtype == dns.TypeANY:
		set = pickANY(n)
		if set == nil {
			st.nodata()
			return
		}
		st.add(Answer, owner, set)
		return // no NS in authority for ANY
	case set != nil:
		st.add(Answer, owner, set)
	case n.RRset(dns.TypeCNAME) != nil:
		cname := n.RRset(dns.TypeCNAME)
		target, err := zone.Key(cname.RRs[0].(*dns.CNAME).Target)
		if st.add(Answer, owner, cname) && err == nil && st.chain < maxChain {
			st.chain++
			z := st.zone
			st.lookupZone(target)
			st.zone = z
		}
		return
	default:
		st.nodata()
		return
	}
	if st.qclass != dns.ClassANY && st.qtype != dns.TypeDS && st.qtype != dns.TypeDNSKEY {
		if ns := st.zone.Apex.RRset(dns.TypeNS); ns != nil {
			st.add(OptAuthority, st.zone.Apex.Key, ns)
		}
	}
}

// pickANY chooses the one RRset answered to QTYPE ANY (RFC 8482 §4.1): the
// first of type A, AAAA, SOA, MX or PTR, else the last of any other type,
// else the last DNSSEC set.
func pickANY(n *zone.Node) *zone.RRset {
	var normal, dnssec *zone.RRset
	for _, s := range n.Sets {
		switch s.Type {
		case dns.TypeA, dns.TypeAAAA, dns.TypeSOA, dns.TypeMX, dns.TypePTR:
			return s
		case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC:
			dnssec = s
		default:
			normal = s
		}
	}
	if normal != nil {
		return normal
	}
	return dnssec
}

// nodata adds the negative SOA (RFC 2308 §2.2).
func (st *state) nodata() { st.soa() }

// soa adds the zone's SOA, at its negative TTL, to the authority section.
func (st *state) soa() {
	if st.qclass != dns.ClassANY {
		st.add(Authority, st.zone.Apex.Key, st.r.negSOA[st.zone])
	}
}
