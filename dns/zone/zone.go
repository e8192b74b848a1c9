// Package zone reads RFC 1035 master files and holds a zone as the tree an
// authoritative server walks: one node per name that exists, empty
// non-terminals included (RFC 4592 §2.2.2), each with its RRsets.
//
// The text format is parsed by github.com/miekg/dns, which is well tested
// against the zoo of real master files; what is ours is what a server must
// refuse before it answers from a zone: a missing or misplaced SOA, data out
// of the zone, CNAME beside other data, data under a DNAME, classes other
// than IN. Every fault is an *Error reading "file:line: reason", and a zone
// with one is not loaded at all.
//
// Names are compared by key: the wire form with ASCII letters lowered
// (package wire's ReadName produces the same key from a query).
package zone

import (
	"github.com/miekg/dns"
)

// Zone is one zone, loaded and checked. It is read-only once loaded and may
// be shared by any number of goroutines.
type Zone struct {
	// Origin is the apex name, lower case, fully qualified.
	Origin string
	// File names the source in errors and logs.
	File string
	// Apex is the node of the origin; SOA its SOA record.
	Apex *Node
	SOA  *dns.SOA

	nodes map[string]*Node // by key
	order []*Node          // in the order names first appear in the file
}

// Node is a name of a zone that exists: it owns RRsets, or is an empty
// non-terminal above names that do.
type Node struct {
	// Name is the owner name, lower case, fully qualified; Key its key.
	Name string
	Key  string
	// Parent is the node of the name one label up, nil at the apex.
	Parent *Node
	// Sets are the node's RRsets, in the order their types first appear
	// in the file. An empty non-terminal has none.
	Sets []*RRset
}

// RRset is the records of one type at one name.
type RRset struct {
	Type uint16
	RRs  []dns.RR
}

// Lookup returns the node of the name with key, or nil.
func (z *Zone) Lookup(key string) *Node { return z.nodes[key] }

// Nodes returns every node, in the order the names appear in the file
// (an empty non-terminal just before the first name below it), including
// the names of NSEC3 records, which Lookup and ClosestEncloser do not find
// (RFC 5155 §7.2.8: they do not exist, but are transferred).
func (z *Zone) Nodes() []*Node { return z.order }

// Contains reports whether the name with key is at or below the apex.
func (z *Zone) Contains(key string) bool { return isSubKey(key, z.Apex.Key) }

// ClosestEncloser returns the node of the longest name that exists and is
// key or one of its ancestors (RFC 4592 §3.3.1), and whether it is key
// itself. key must be in the zone.
func (z *Zone) ClosestEncloser(key string) (n *Node, exact bool) {
	for k := key; ; k = parentKey(k) {
		if n := z.nodes[k]; n != nil {
			return n, k == key
		}
		if k == z.Apex.Key || k == "\x00" {
			return z.Apex, false
		}
	}
}

// Cut returns the highest delegation point at or above n (a node below the
// apex with an NS RRset), or nil if n is in the authoritative part of the
// zone.
func (z *Zone) Cut(n *Node) *Node {
	var cut *Node
	for ; n != nil && n != z.Apex; n = n.Parent {
		if n.RRset(dns.TypeNS) != nil {
			cut = n
		}
	}
	return cut
}

// DNAMEAbove returns the nearest strict ancestor of n below the apex that
// owns a DNAME, or nil.
func (z *Zone) DNAMEAbove(n *Node) *Node {
	for n = n.Parent; n != nil && n != z.Apex; n = n.Parent {
		if n.RRset(dns.TypeDNAME) != nil {
			return n
		}
	}
	return nil
}

// Wildcard returns the node of the wildcard "*" child of n, or nil.
func (z *Zone) Wildcard(n *Node) *Node { return z.nodes["\x01*"+n.Key] }

// RRset returns n's RRset of type t, or nil.
func (n *Node) RRset(t uint16) *RRset {
	for _, s := range n.Sets {
		if s.Type == t {
			return s
		}
	}
	return nil
}

// IsWildcard reports whether n is a wildcard name, "*" as its first label.
func (n *Node) IsWildcard() bool { return len(n.Key) > 2 && n.Key[0] == 1 && n.Key[1] == '*' }
