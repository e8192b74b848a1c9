package answer

import (
	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
)

// mode says what the model name of a template stands for in a response.
type mode uint8

const (
	// exact: the model is the query name itself (up to case).
	exact mode = iota
	// suffix: the model (an apex, a cut) is a suffix of the query name.
	suffix
	// wild: the model is a wildcard "*.<ce>" and the query name is below
	// <ce>; owners equal to the model are written as the query name.
	wild
)

// boundary is the end of one RRset in a template's body.
type boundary struct {
	end     uint16    // offset just past the set in body
	counts  [3]uint16 // ANCOUNT, NSCOUNT, ARCOUNT up to and including the set
	section lookup.Section
}

// template is a stored response without its header, question and OPT
// record: what follows the question, with compression pointers computed as
// if the question name were the model.
type template struct {
	flags      uint16 // AA and the RCODE's low 4 bits (wire.MaskRcode)
	modelLen   int    // length of the model name in wire form
	body       []byte
	sets       []boundary
	relocs     []uint16 // offsets in body of the pointers that move with the name
	delegation bool     // a referral: TC when its glue does not fit
}

// counts returns the full section counts of t.
func (t *template) counts() [3]uint16 {
	if len(t.sets) == 0 {
		return [3]uint16{}
	}
	return t.sets[len(t.sets)-1].counts
}

// fit returns how much of t's body goes into a response that may carry
// room bytes after the question, the counts of the sets kept, and whether
// the response is truncated. Whole RRsets are kept, as NSD does: a set of
// the answer or authority section that does not fit ends the response with
// TC; one of the later sections ends it silently, unless it leaves a
// referral without any address of its glue.
func (t *template) fit(room int) (end int, counts [3]uint16, tc bool) {
	if len(t.body) <= room {
		return len(t.body), t.counts(), false
	}
	for _, b := range t.sets {
		if int(b.end) > room {
			tc = b.section.Truncates() ||
				(t.delegation && b.section == lookup.AdditionalA && counts[2] == 0)
			return end, counts, tc
		}
		end, counts = int(b.end), b.counts
	}
	return end, counts, false
}

// emit writes into dst the response to q (whose message is msg) from t,
// keeping to limit bytes, and returns it. dst must have room for limit.
func (t *template) emit(dst, msg []byte, q *wire.Query, limit int) []byte {
	n := q.QEnd
	opt := 0
	if q.EDNS {
		opt = wire.OPTLen
	}
	end, counts, tc := t.fit(limit - n - opt)
	dst = dst[:n+end]
	copy(dst[wire.HeaderLen:n], msg[wire.HeaderLen:n])
	copy(dst[n:], t.body[:end])
	if delta := uint16(len(q.Name) - t.modelLen); delta != 0 {
		for _, r := range t.relocs {
			if int(r) >= end {
				break
			}
			p := dst[n+int(r):]
			wire.PutUint16(p, wire.Uint16(p)+delta)
		}
	}
	flags := wire.FlagQR | t.flags | q.Flags&wire.FlagRD
	if tc {
		flags |= wire.FlagTC
	}
	ar := counts[2]
	if q.EDNS {
		dst = appendOPT(dst, 0, q.DO)
		ar++
	}
	wire.PutHeader(dst, q.ID, flags, 1, counts[0], counts[1], ar)
	return dst
}

// appendOPT appends the server's OPT record (RFC 6891 §6.1.2): its UDP
// payload size, the upper bits of the RCODE, and the DO bit of the query
// echoed (RFC 3225 §3).
func appendOPT(dst []byte, extRcode uint8, do bool) []byte {
	var flags byte
	if do {
		flags = 0x80
	}
	return append(dst,
		0,                     // owner: the root
		0, byte(wire.TypeOPT), // type
		byte(MaxUDPSize>>8), byte(MaxUDPSize&0xff), // class: payload size
		extRcode, 0, flags, 0, // TTL: extended RCODE, version 0, DO
		0, 0) // no options
}
