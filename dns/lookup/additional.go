package lookup

import (
	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/zone"
)

// add places set in section unless it is there already (in which case it
// moves to section if that comes first), and adds the addresses its
// records name to the additional section, for the types whose RFCs ask for
// it, as NSD: NS, MX, SRV, KX (RFC 2230), RT (RFC 1183 §3.3, with X25
// and ISDN) and MB (RFC 1035 §3.3.3). It reports whether the set was placed
// or moved.
func (st *state) add(section Section, owner string, set *zone.RRset) bool {
	added := st.place(section, owner, set)
	switch set.Type {
	case dns.TypeNS:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.NS).Ns, true)
		}
	case dns.TypeMX:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.MX).Mx, false)
		}
	case dns.TypeSRV:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.SRV).Target, false)
		}
	case dns.TypeKX:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.KX).Exchanger, false)
		}
	case dns.TypeRT:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.RT).Host, false, dns.TypeX25, dns.TypeISDN)
		}
	case dns.TypeMB:
		for _, rr := range set.RRs {
			st.additional(rr.(*dns.MB).Mb, false)
		}
	}
	return added
}

func (st *state) place(section Section, owner string, set *zone.RRset) bool {
	for i := range st.resp.Sets {
		s := &st.resp.Sets[i]
		if s.src == set && s.Owner == owner {
			if section < s.Section {
				s.Section = section
				return true
			}
			return false
		}
	}
	st.resp.Sets = append(st.resp.Sets, Set{Section: section, Owner: owner, RRs: set.RRs, src: set})
	return true
}

// additional adds the A and AAAA RRsets of name, from the current zone, to
// the additional section, then its RRsets of the other types; glue (names
// at or below a cut) only if allowGlue. A name matched by a wildcard gets
// the wildcard's sets.
func (st *state) additional(name string, allowGlue bool, other ...uint16) {
	key, err := zone.Key(name)
	z := st.zone
	if err != nil || !z.Contains(key) {
		return
	}
	ce, exact := z.ClosestEncloser(key)
	if !allowGlue && z.Cut(ce) != nil {
		return
	}
	n, owner := ce, ce.Key
	if !exact {
		if n = z.Wildcard(ce); n == nil {
			return
		}
		owner = key
	}
	if set := n.RRset(dns.TypeA); set != nil {
		st.place(AdditionalA, owner, set)
	}
	if set := n.RRset(dns.TypeAAAA); set != nil {
		st.place(AdditionalAAAA, owner, set)
	}
	for _, t := range other {
		if set := n.RRset(t); set != nil {
			st.place(AdditionalOther, owner, set)
		}
	}
}
