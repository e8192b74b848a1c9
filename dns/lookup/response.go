// Package lookup is the authoritative algorithm of RFC 1034 §4.3.2 over a
// set of zones: from a question to the RRsets of the response, section by
// section. It is run for every stored answer when zones are loaded (package
// answer), and at query time only for the rare questions whose answer
// cannot be stored (DNAME synthesis, QCLASS ANY).
//
// Where the RFCs leave a choice, it makes NSD's, because NSD is what the
// differential tests hold the server to: the zone's NS RRset in the
// authority section of positive answers and the addresses of name servers,
// mail and key exchangers and SRV targets in the additional section (NSD
// without minimal-responses); negative answers with the SOA at the TTL of RFC 2308
// §5 (the lesser of its TTL and MINIMUM); CNAME chains followed into any
// zone served; one RRset for QTYPE ANY (RFC 8482 §4.1, A, AAAA, SOA, MX or
// PTR preferred); DS answered from the parent side of a cut.
package lookup

import (
	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/zone"
)

// Section is where an RRset goes in a response. The order is that in which
// NSD emits them, and the order of precedence when a response must be cut
// to fit: a set that does not fit in Answer or Authority truncates the
// response (TC), one in the later sections is left out silently.
type Section uint8

const (
	Answer Section = iota
	Authority
	// OptAuthority holds the zone's NS RRset added to positive answers.
	OptAuthority
	AdditionalA
	AdditionalAAAA
	AdditionalOther
)

// Counted reports which of the header's counts a section adds to: 0 for
// ANCOUNT, 1 for NSCOUNT, 2 for ARCOUNT.
func (s Section) Counted() int {
	switch s {
	case Answer:
		return 0
	case Authority, OptAuthority:
		return 1
	}
	return 2
}

// Truncates reports whether a set of this section that does not fit makes
// the response truncated, rather than just left out.
func (s Section) Truncates() bool { return s <= Authority }

// Set is an RRset placed in a response.
type Set struct {
	Section Section
	// Owner is the key of the owner name written for every record (the
	// query name for a set synthesised from a wildcard).
	Owner string
	RRs   []dns.RR
	src   *zone.RRset // identity, to add each set once
}

// Kind tells the responses that depend on the zone and not on the name
// asked, which package answer stores once per zone or cut.
type Kind uint8

const (
	// Specific: the response is particular to the name and type.
	Specific Kind = iota
	// Negative: NXDOMAIN or NODATA, no CNAME followed: only the zone's SOA.
	Negative
	// Referral: a delegation, no CNAME followed: the cut's NS and glue.
	Referral
)

// Response is the result of a lookup.
type Response struct {
	Rcode int
	AA    bool
	// Delegation reports that a zone cut was met (NSD sets TC on a
	// truncated referral whose glue addresses were all left out).
	Delegation bool
	// Sets are in section order, and within a section in the order added.
	Sets []Set
	Kind Kind
	// Zone is the last zone the lookup was in; Cut the delegation point of
	// a Referral.
	Zone *zone.Zone
	Cut  *zone.Node
}
