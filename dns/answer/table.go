// Package answer is the memoised answer table of the DNS server: every
// response the zones can produce is built once, when they are loaded, and a
// query is answered by copying one, with its header and question patched
// (see package dns for the design). Respond is the hot path; it allocates
// nothing and takes no lock.
package answer

import (
	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
)

// Table is the memoised answers of a set of zones. It is read-only once
// built and safe for concurrent use.
type Table struct {
	res *lookup.Resolver
	// names maps the key of every name that exists in a zone served
	// (empty non-terminals included) to its answers.
	names map[string]*entry
	// absent is a type that no zone holds: the answer to it is the answer
	// to every type without an entry of its own.
	absent  uint16
	refused *template
	xfrs    map[string]*Transfer // by apex key
	stats   Stats
}

// Stats counts what a table holds.
type Stats struct {
	Zones, Names, Templates, Bytes int
}

// entry is the answers of one name, and of the names below it that do not
// exist.
type entry struct {
	types []typed   // answers that differ from def, by query type
	def   *template // the answer to any other type
	under *template // the answer to names below that do not exist ...
	wild  *entry    // ... unless a wildcard synthesises them,
	dname bool      // ... or a DNAME redirects them (not stored).
}

type typed struct {
	qtype uint16
	t     *template
}

// get returns e's answer to qtype.
func (e *entry) get(qtype uint16) *template {
	for i := range e.types {
		if e.types[i].qtype == qtype {
			return e.types[i].t
		}
	}
	return e.def
}

// Stats returns what t holds.
func (t *Table) Stats() Stats { return t.stats }

// find returns the stored answer to (name, qtype), or false if there is
// none and the answer must be computed.
func (t *Table) find(name []byte, qtype uint16) (*template, bool) {
	if e := t.names[string(name)]; e != nil {
		return e.get(qtype), true
	}
	for p := wire.Parent(name); p != nil; p = wire.Parent(p) {
		e := t.names[string(p)]
		switch {
		case e == nil:
			continue
		case e.dname:
			return nil, false
		case e.wild != nil:
			return e.wild.get(qtype), true
		}
		return e.under, true
	}
	return t.refused, true
}
