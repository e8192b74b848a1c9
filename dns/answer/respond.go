package answer

import (
	"sync"

	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
)

// MaxUDPSize is the UDP payload size the server offers in its OPT record
// and the most it sends over UDP: the 1232 bytes of DNS Flag Day 2020,
// NSD's default, so that responses are not fragmented.
const MaxUDPSize = 1232

// BufferSize is the room Respond needs in its dst for a query over TCP
// (over UDP, MaxUDPSize is enough).
const BufferSize = wire.MaxMessage

// Transport is what a query came over.
type Transport uint8

const (
	UDP Transport = iota
	TCP
)

// Respond answers the query msg, parsed into q, writing the response into
// dst (with room for MaxUDPSize bytes over UDP, BufferSize over TCP). It
// returns nil when the query gets no answer. For a zone transfer over TCP,
// xfr is the zone to stream and resp the refusal to send instead when the
// client may not have it (the server keeps the access list).
//
// q is the caller's, reused from query to query so that nothing is
// allocated: only questions of QCLASS ANY and names below a DNAME, whose
// answers are not stored, allocate.
func (t *Table) Respond(dst, msg []byte, q *wire.Query, tr Transport) (resp []byte, xfr *Transfer) {
	dst = dst[:cap(dst)]
	switch q.Parse(msg) {
	case wire.Drop:
		return nil, nil
	case wire.FormErr:
		// The opcode and RD kept, nothing else (as NSD does).
		flags := wire.FlagQR | q.Flags&(wire.FlagRD|wire.MaskOpcode) | wire.RcodeFormErr
		wire.PutHeader(dst, q.ID, flags, 0, 0, 0, 0)
		return dst[:wire.HeaderLen], nil
	case wire.NotImp:
		flags := (q.Flags|wire.FlagQR)&^(wire.FlagAD|wire.MaskRcode) | wire.RcodeNotImp
		wire.PutHeader(dst, q.ID, flags, 0, 0, 0, 0)
		return dst[:wire.HeaderLen], nil
	case wire.BadVers:
		// The question kept, BADVERS in the OPT record (RFC 6891 §7).
		flags := (q.Flags | wire.FlagQR) &^ (wire.FlagAD | wire.MaskRcode)
		n := copy(dst[wire.HeaderLen:], msg[wire.HeaderLen:q.QEnd]) + wire.HeaderLen
		out := appendOPT(dst[:n], wire.RcodeBadVers>>4, q.DO)
		wire.PutHeader(out, q.ID, flags, 1, 0, 0, 1)
		return out, nil
	}
	limit := wire.MaxMessage
	if tr == UDP {
		limit = wire.MinUDPSize
		if q.EDNS && q.UDPSize > wire.MinUDPSize {
			limit = min(int(q.UDPSize), MaxUDPSize)
		}
	}
	switch q.Class {
	case wire.ClassIN:
	case wire.ClassANY:
		return t.slow(dst, msg, q, limit), nil
	default:
		return t.refused.emit(dst, msg, q, limit), nil // CH and any other class
	}
	switch q.Type {
	case wire.TypeAXFR, wire.TypeIXFR:
		return t.transfer(dst, msg, q, tr, limit)
	}
	tpl, ok := t.find(q.Name, q.Type)
	if !ok {
		return t.slow(dst, msg, q, limit), nil
	}
	return tpl.emit(dst, msg, q, limit), nil
}

// slow computes an answer that is not stored. It allocates.
func (t *Table) slow(dst, msg []byte, q *wire.Query, limit int) []byte {
	key := string(q.Name)
	resp := t.res.Lookup(key, q.Type, q.Class)
	tmp := scratch.Get().(*[]byte)
	tpl, err := encode(resp, key, exact, *tmp)
	scratch.Put(tmp)
	if err != nil {
		tpl = &template{flags: wire.RcodeServFail}
	}
	return tpl.emit(dst, msg, q, limit)
}

// scratch holds the encoder's scratch space for answers computed per query.
var scratch = sync.Pool{New: func() any { b := make([]byte, wire.MaxMessage); return &b }}

// Resolver returns the lookup the table was built from.
func (t *Table) Resolver() *lookup.Resolver { return t.res }
