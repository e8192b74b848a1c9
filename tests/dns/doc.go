// Package dns holds the end-to-end tests of examples/dns, the authoritative
// DNS server image: the image runs as a host process (unix mode) and is
// compared, answer by answer, with NSD serving the same zones, with Knot as
// a second opinion where the two disagree. The zones under testdata cover
// what an authoritative server must get right: several zones (one the child
// of another), a delegation with glue, wildcards, CNAME chains inside and out
// of the zones, a TXT record too large for 512 bytes, an RRset too large for
// 1232, CAA, SRV, KX and RT (their additional sections), the name of an NSEC3
// record (which does not exist), a reverse zone with PTRs, mixed-case names.
//
// The reference servers are started by the tests themselves, on loopback
// at unprivileged ports, each from a configuration in its own temporary
// directory, and killed at the end. A machine without nsd, knotd or dig
// skips the tests that need them (MORGANA_REQUIRE_COMMANDS=1 fails them).
//
//	go test ./tests/dns/
//	go test ./tests/dns/ -run Differential -v   # the comparisons, logged
package dns
