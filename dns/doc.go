// Package dns is the root of morgana's authoritative DNS server, a library of
// the library OS; examples/dns is an image built on it. It holds no code,
// only this map of the packages below and the reasons for their shape.
//
// An authoritative server answers from data that does not change while it
// runs. So all the work of answering is done once, when the zones are
// loaded, and none of it when a query arrives: for every name of every zone
// and every query type whose answer differs, the whole response (answer,
// authority and additional sections, compressed) is built at load time and
// kept as wire bytes. A query is then a parse of the question, one map lookup
// and a copy, with the ID, the flags and the question patched in. MirageOS
// called this memoisation; NSD precompiles its zones for the same reason.
//
// One stored response serves every variant of a question:
//
//   - The question section is the query's own, copied: its case is
//     preserved, and compression pointers into it (offset 12) give the
//     owner names the question's case, as NSD does.
//   - EDNS0 changes only the OPT record appended at the end and the size
//     limit. Responses are stored with the boundaries of their RRsets, so
//     truncation (whole RRsets, TC when the answer or authority section does
//     not fit, as NSD does) is a cut at a precomputed boundary: a prefix of
//     a compressed message is still a valid message, because compression
//     pointers only point backwards.
//   - Answers that depend on a name the zone does not hold (NXDOMAIN,
//     referrals below a cut, wildcard synthesis) are stored once, built
//     against a model name (the apex, the cut, the wildcard), with the list
//     of the compression pointers they contain: for a query name longer by
//     d bytes, each pointer moves by d. The one pointer to the whole query
//     name (the owner of a synthesised wildcard answer) stays at 12.
//
// The packages, from the wire up:
//
//   - wire: the DNS header and the zero-allocation parser of queries
//     (header, question, OPT record), with no dependencies.
//   - zone: RFC 1035 master files (through github.com/miekg/dns), checked
//     with file:line errors, and the zone tree: nodes, empty non-terminals,
//     delegations, wildcards.
//   - lookup: the authoritative algorithm of RFC 1034 §4.3.2 over a set of
//     zones, with RFC 4592 wildcards and CNAME chains, producing the RRsets
//     of a response by section. It follows NSD's choices (additional section
//     processing, negative TTLs, RFC 8482 ANY), since NSD is what the
//     differential tests compare with.
//   - answer: the memoised table built from lookup's results, and the hot
//     path that answers a query from it; zone transfers (AXFR).
//   - server: the UDP and TCP loops over a net.PacketConn and a
//     net.Listener (from morgana's stack package in the image), with
//     recvmmsg/sendmmsg batching on Linux host sockets, TCP pipelining
//     (RFC 7766) and the AXFR access list.
package dns
