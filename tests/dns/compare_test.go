package dns

import (
	"fmt"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
)

// normalize renders a response for comparison, section by section: the
// header's flags and codes, the question as sent (case included), then each
// section's records sorted (order is free within a section) with names
// lowered (servers may keep or lower the case of the names in their data),
// and the OPT record's fields but its options (NSD and Knot add extended
// errors). Authoritative servers do not decrement TTLs, so TTLs are kept.
func normalize(m *mdns.Msg) string {
	if m == nil {
		return "(no response)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "opcode=%s rcode=%s", mdns.OpcodeToString[m.Opcode], mdns.RcodeToString[m.Rcode])
	for _, f := range []struct {
		name string
		on   bool
	}{{"qr", m.Response}, {"aa", m.Authoritative}, {"tc", m.Truncated}, {"rd", m.RecursionDesired},
		{"ra", m.RecursionAvailable}, {"z", m.Zero}, {"ad", m.AuthenticatedData}, {"cd", m.CheckingDisabled}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	b.WriteString("\n")
	for _, q := range m.Question {
		fmt.Fprintf(&b, "question: %s %s %s\n", q.Name, mdns.Class(q.Qclass), mdns.Type(q.Qtype))
	}
	for _, sec := range []struct {
		name string
		rrs  []mdns.RR
	}{{"answer", m.Answer}, {"authority", m.Ns}, {"additional", m.Extra}} {
		var lines []string
		for _, rr := range sec.rrs {
			if opt, ok := rr.(*mdns.OPT); ok {
				lines = append(lines, fmt.Sprintf("OPT version=%d udp=%d do=%v extrcode=%d",
					opt.Version(), opt.UDPSize(), opt.Do(), opt.ExtendedRcode()))
				continue
			}
			lines = append(lines, lowerNames(rr))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "%s: %s\n", sec.name, l)
		}
	}
	return b.String()
}

// lowerNames renders rr with its owner and the names of its rdata lowered.
func lowerNames(rr mdns.RR) string {
	rr = mdns.Copy(rr)
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	switch rr := rr.(type) {
	case *mdns.NS:
		rr.Ns = strings.ToLower(rr.Ns)
	case *mdns.CNAME:
		rr.Target = strings.ToLower(rr.Target)
	case *mdns.DNAME:
		rr.Target = strings.ToLower(rr.Target)
	case *mdns.PTR:
		rr.Ptr = strings.ToLower(rr.Ptr)
	case *mdns.MX:
		rr.Mx = strings.ToLower(rr.Mx)
	case *mdns.SRV:
		rr.Target = strings.ToLower(rr.Target)
	case *mdns.SOA:
		rr.Ns, rr.Mbox = strings.ToLower(rr.Ns), strings.ToLower(rr.Mbox)
	}
	return rr.String()
}

// diff returns the lines of a and b that differ, marked - and +.
func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	inA, inB := map[string]int{}, map[string]int{}
	for _, l := range al {
		inA[l]++
	}
	for _, l := range bl {
		inB[l]++
	}
	var out []string
	for _, l := range al {
		if inB[l] == 0 {
			out = append(out, "- "+l)
		} else {
			inB[l]--
		}
	}
	for _, l := range bl {
		if inA[l] == 0 {
			out = append(out, "+ "+l)
		} else {
			inA[l]--
		}
	}
	return strings.Join(out, "\n")
}
