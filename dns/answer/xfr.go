package answer

import (
	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
	"github.com/morgana-os/morgana/dns/zone"
)

// xfrMessageSize is the size past which a zone transfer starts a new
// message: NSD's 16 KiB, small enough for every client's buffer.
const xfrMessageSize = 16 << 10

// Transfer is a zone prepared for AXFR (RFC 5936): the whole zone, the SOA
// first and last, in messages built at load. The first message carries the
// question and is a template; the others are complete but for their ID.
type Transfer struct {
	// Zone is the origin of the zone.
	Zone  string
	first *template
	rest  [][]byte
	soa   *template // the answer to an IXFR over UDP: the SOA alone
}

// transfer answers AXFR and IXFR queries: the refusal (or error) to send,
// and the transfer to send instead to a client that may have it.
func (t *Table) transfer(dst, msg []byte, q *wire.Query, tr Transport, limit int) ([]byte, *Transfer) {
	x := t.xfrs[string(q.Name)]
	switch {
	case q.Type == wire.TypeAXFR && tr == UDP:
		return (&template{flags: wire.RcodeNotImp}).emit(dst, msg, q, limit), nil
	case x == nil:
		return (&template{flags: wire.RcodeNotAuth}).emit(dst, msg, q, limit), nil
	}
	return t.refused.emit(dst, msg, q, limit), x
}

// Send streams over TCP the transfer that answers q (whose message is msg),
// calling send with each message in turn; dst is scratch space of
// BufferSize bytes. An IXFR gets the whole zone too (RFC 1995 §4).
func (x *Transfer) Send(dst, msg []byte, q *wire.Query, send func([]byte) error) error {
	dst = dst[:cap(dst)]
	if err := send(x.first.emit(dst, msg, q, wire.MaxMessage)); err != nil {
		return err
	}
	flags := wire.FlagQR | wire.FlagAA | q.Flags&wire.FlagRD
	for _, m := range x.rest {
		n := copy(dst, m)
		wire.PutUint16(dst, q.ID)
		wire.PutUint16(dst[2:], flags)
		if err := send(dst[:n]); err != nil {
			return err
		}
	}
	return nil
}

// newTransfer prepares the transfer of z.
func newTransfer(z *zone.Zone) (*Transfer, error) {
	soa := &zone.RRset{Type: dns.TypeSOA, RRs: []dns.RR{z.SOA}}
	var rrs []record
	rrs = append(rrs, record{z.Apex.Key, z.SOA})
	for _, n := range z.Nodes() {
		for _, s := range n.Sets {
			if s.Type == dns.TypeSOA {
				continue
			}
			for _, rr := range s.RRs {
				rrs = append(rrs, record{n.Key, rr})
			}
		}
	}
	rrs = append(rrs, record{z.Apex.Key, z.SOA})

	x := &Transfer{Zone: z.Origin}
	tmp := make([]byte, wire.MaxMessage)
	var err error
	x.soa, err = encode(&lookup.Response{AA: true, Sets: []lookup.Set{{Section: lookup.Answer, Owner: z.Apex.Key, RRs: soa.RRs}}}, z.Apex.Key, exact, tmp)
	if err != nil {
		return nil, err
	}
	// The first message: a template whose question is the apex.
	e := newEncoder(z.Apex.Key, exact, tmp)
	i, err := fill(e, rrs)
	if err != nil {
		return nil, err
	}
	an := uint16(i)
	x.first = &template{flags: wire.FlagAA, modelLen: len(z.Apex.Key), body: e.buf[e.start:],
		sets: []boundary{{end: uint16(len(e.buf) - e.start), counts: [3]uint16{an}}}}
	for rrs = rrs[i:]; len(rrs) > 0; rrs = rrs[i:] {
		e := newEncoder("", exact, tmp)
		if i, err = fill(e, rrs); err != nil {
			return nil, err
		}
		wire.SetCounts(e.buf, 0, uint16(i), 0, 0)
		x.rest = append(x.rest, e.buf)
	}
	return x, nil
}

type record struct {
	owner string
	rr    dns.RR
}

// fill encodes records into e until the message is full, and returns how
// many it took (at least one).
func fill(e *encoder, rrs []record) (int, error) {
	for i, r := range rrs {
		if i > 0 && len(e.buf) >= xfrMessageSize {
			return i, nil
		}
		if err := e.rr(r.owner, r.rr); err != nil {
			return 0, err
		}
	}
	return len(rrs), nil
}

// UDP answers an IXFR over UDP from a client that may have the zone: the
// SOA alone, which tells it to come back over TCP (RFC 1995 §4). dst needs
// room for MaxUDPSize bytes.
func (x *Transfer) UDP(dst, msg []byte, q *wire.Query) []byte {
	limit := wire.MinUDPSize
	if q.EDNS && q.UDPSize > wire.MinUDPSize {
		limit = min(int(q.UDPSize), MaxUDPSize)
	}
	return x.soa.emit(dst[:cap(dst)], msg, q, limit)
}
