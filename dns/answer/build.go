package answer

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
	"github.com/morgana-os/morgana/dns/zone"
)

// Build precomputes every answer the zones of set can give.
func Build(set *zone.Set) (*Table, error) {
	t := &Table{res: lookup.New(set), names: map[string]*entry{}, xfrs: map[string]*Transfer{}}
	b := &builder{t: t, negative: map[*zone.Zone][2]*template{}, referral: map[*zone.Node]*template{},
		tmp: make([]byte, wire.MaxMessage)}
	seen := map[uint16]bool{dns.TypeANY: true, dns.TypeDS: true}
	for _, z := range set.Zones() {
		for _, n := range z.Nodes() {
			for _, s := range n.Sets {
				seen[s.Type] = true
			}
		}
	}
	for typ := range seen {
		b.union = append(b.union, typ)
	}
	sort.Slice(b.union, func(i, j int) bool { return b.union[i] < b.union[j] })
	for t.absent = 65280; seen[t.absent]; t.absent++ { // RFC 6895 private use
	}
	t.refused = &template{flags: dns.RcodeRefused}

	for _, z := range set.Zones() {
		for _, n := range z.Nodes() {
			if set.Find(n.Key) != z || z.Lookup(n.Key) != n {
				continue // occluded by a zone below, served too; or an NSEC3 name
			}
			e, err := b.entry(z, n)
			if err != nil {
				return nil, fmt.Errorf("zone %s: %s: %w", z.Origin, n.Name, err)
			}
			t.names[n.Key] = e
		}
		x, err := newTransfer(z)
		if err != nil {
			return nil, fmt.Errorf("zone %s: transfer: %w", z.Origin, err)
		}
		t.xfrs[z.Apex.Key] = x
	}
	t.stats.Zones = len(set.Zones())
	t.stats.Names = len(t.names)
	return t, nil
}

// builder holds what a table shares while it is built.
type builder struct {
	t        *Table
	union    []uint16 // every type of every zone, and ANY and DS
	negative map[*zone.Zone][2]*template
	referral map[*zone.Node]*template
	tmp      []byte // the encoder's scratch space
}

// entry computes the answers of node n of zone z.
func (b *builder) entry(z *zone.Zone, n *zone.Node) (*entry, error) {
	cut := z.Cut(n)
	e, err := b.answers(n, exact, n.Key, cut)
	if err != nil {
		return nil, err
	}
	switch {
	case cut != nil:
		e.under, err = b.referralOf(z, cut)
	case n.RRset(dns.TypeDNAME) != nil:
		e.dname = true
	case z.Wildcard(n) != nil:
		w := z.Wildcard(n)
		e.wild, err = b.answers(w, wild, w.Key, nil)
	default:
		e.under, err = b.negativeOf(z, dns.RcodeNameError)
	}
	return e, err
}

// answers computes the answers at node n (whose key is model) in mode m.
func (b *builder) answers(n *zone.Node, m mode, model string, cut *zone.Node) (*entry, error) {
	var types []uint16
	switch {
	case cut != nil: // a referral for all types, but DS at the cut
		if n == cut {
			types = []uint16{dns.TypeDS}
		}
	case n.RRset(dns.TypeCNAME) != nil: // the target's answer depends on the type
		types = b.union
	default:
		types = append(types, dns.TypeANY, dns.TypeDS)
		for _, s := range n.Sets {
			types = append(types, s.Type)
		}
	}
	e := &entry{}
	var err error
	if e.def, err = b.template(n.Key, b.t.absent, model, m); err != nil {
		return nil, err
	}
	for _, typ := range types {
		tpl, err := b.template(n.Key, typ, model, m)
		if err != nil {
			return nil, err
		}
		if !same(tpl, e.def) && e.get(typ) == e.def {
			e.types = append(e.types, typed{typ, tpl})
		}
	}
	return e, nil
}

// template looks up (key, qtype) and returns its template, shared with
// other names when the response does not depend on the name.
func (b *builder) template(key string, qtype uint16, model string, m mode) (*template, error) {
	resp := b.t.res.Lookup(key, qtype, dns.ClassINET)
	switch resp.Kind {
	case lookup.Negative:
		return b.negativeOf(resp.Zone, resp.Rcode)
	case lookup.Referral:
		return b.referralOf(resp.Zone, resp.Cut)
	}
	return b.encode(resp, model, m)
}

// negativeOf returns the NODATA or NXDOMAIN template of z, for any name of
// it: its model is the apex.
func (b *builder) negativeOf(z *zone.Zone, rcode int) (*template, error) {
	pair, ok := b.negative[z]
	if !ok {
		resp := b.t.res.Lookup(z.Apex.Key, b.t.absent, dns.ClassINET)
		nodata, err := b.encode(resp, z.Apex.Key, suffix)
		if err != nil {
			return nil, err
		}
		nx := *nodata
		nx.flags = nodata.flags&^0xf | dns.RcodeNameError
		pair = [2]*template{nodata, &nx}
		b.negative[z] = pair
	}
	if rcode == dns.RcodeNameError {
		return pair[1], nil
	}
	return pair[0], nil
}

// referralOf returns the referral template of the cut of z, for the cut
// and any name below it: its model is the cut.
func (b *builder) referralOf(z *zone.Zone, cut *zone.Node) (*template, error) {
	if t := b.referral[cut]; t != nil {
		return t, nil
	}
	resp := b.t.res.Lookup(cut.Key, b.t.absent, dns.ClassINET)
	t, err := b.encode(resp, cut.Key, suffix)
	if err != nil {
		return nil, err
	}
	b.referral[cut] = t
	return t, nil
}

func (b *builder) encode(resp *lookup.Response, model string, m mode) (*template, error) {
	t, err := encode(resp, model, m, b.tmp)
	if err == nil {
		b.t.stats.Templates++
		b.t.stats.Bytes += len(t.body)
	}
	return t, err
}

// same reports whether two templates give the same responses.
func same(a, b *template) bool {
	if a == b {
		return true
	}
	if a.flags != b.flags || a.modelLen != b.modelLen || a.delegation != b.delegation ||
		!bytes.Equal(a.body, b.body) || len(a.sets) != len(b.sets) || len(a.relocs) != len(b.relocs) {
		return false
	}
	for i := range a.sets {
		if a.sets[i] != b.sets[i] {
			return false
		}
	}
	for i := range a.relocs {
		if a.relocs[i] != b.relocs[i] {
			return false
		}
	}
	return true
}
