package wire

// Verdict is what a query's parse says to do with it.
type Verdict uint8

const (
	// Answer: the query is well formed; look it up.
	Answer Verdict = iota
	// Drop: no answer at all (a response, or too short for a header).
	Drop
	// FormErr: answer FORMERR, with no question and no OPT (as NSD does).
	FormErr
	// NotImp: an opcode other than QUERY; answer NOTIMP.
	NotImp
	// BadVers: an EDNS version other than 0; answer BADVERS (RFC 6891 §6.1.3).
	BadVers
)

// maxIXFRAuthority bounds the records an IXFR query may carry in its
// authority section (one SOA is expected), as NSD does.
const maxIXFRAuthority = 64

// Query is a parsed query. Parse fills it without allocating; its Name
// aliases the Query's own storage, so a Query is reused, not copied.
type Query struct {
	ID    uint16
	Flags uint16 // as received
	Type  uint16
	Class uint16
	// Name is the question name in wire form, ASCII letters lowered.
	Name []byte
	// QEnd is the offset just past the question in the message: the
	// question, with its original case, is msg[HeaderLen:QEnd].
	QEnd int

	// EDNS reports an OPT record; UDPSize, DO and Version are its fields.
	EDNS    bool
	DO      bool
	Version uint8
	UDPSize uint16

	name [MaxName]byte
}

// Parse reads msg into q and says how to answer it. Fields past the point
// where the parse stopped are left zero (a FormErr has no usable Name).
func (q *Query) Parse(msg []byte) Verdict {
	// Field by field: a whole new Query would clear name too.
	q.ID, q.Flags, q.Type, q.Class, q.Name, q.QEnd = 0, 0, 0, 0, q.name[:0], 0
	q.EDNS, q.DO, q.Version, q.UDPSize = false, false, 0, 0
	if len(msg) < HeaderLen {
		return Drop
	}
	q.ID = Uint16(msg[offID:])
	q.Flags = Uint16(msg[offFlags:])
	if q.Flags&FlagQR != 0 {
		return Drop
	}
	if Opcode(q.Flags) != OpcodeQuery {
		return NotImp
	}
	if Rcode(q.Flags) != 0 || Uint16(msg[offQDCount:]) != 1 || Uint16(msg[offANCount:]) != 0 {
		return FormErr
	}
	name, off, err := ReadName(msg, HeaderLen, q.name[:])
	if err != nil || off+4 > len(msg) {
		return FormErr
	}
	q.Name = name
	q.Type = Uint16(msg[off:])
	q.Class = Uint16(msg[off+2:])
	off += 4
	q.QEnd = off

	// Only IXFR has an authority section: the client's SOA (RFC 1995 §3).
	ns := int(Uint16(msg[offNSCount:]))
	if (q.Type == TypeIXFR) != (ns != 0) || ns > maxIXFRAuthority {
		return FormErr
	}
	for i := 0; i < ns; i++ {
		if off, _, err = skipRR(msg, off); err != nil {
			return FormErr
		}
	}
	ar := int(Uint16(msg[offARCount:]))
	for i := 0; i < ar; i++ {
		start := off
		var typ uint16
		if off, typ, err = skipRR(msg, off); err != nil {
			return FormErr
		}
		// Only an OPT record, once, and with the root as owner; TSIG and
		// SIG(0) are not supported.
		if typ != TypeOPT || q.EDNS || msg[start] != 0 {
			return FormErr
		}
		if v := q.parseOPT(msg[start:off]); v != Answer {
			return v
		}
	}
	return Answer
}

// parseOPT reads an OPT record (RFC 6891 §6.1.2), rr, whose owner is the
// root.
func (q *Query) parseOPT(rr []byte) Verdict {
	q.EDNS = true
	q.UDPSize = Uint16(rr[3:])
	q.Version = rr[6]
	q.DO = rr[7]&0x80 != 0
	if q.Version != 0 {
		return BadVers
	}
	// The options must tile the rdata exactly.
	for opts := rr[OPTLen:]; len(opts) > 0; {
		if len(opts) < 4 {
			return FormErr
		}
		l := int(Uint16(opts[2:]))
		if 4+l > len(opts) {
			return FormErr
		}
		opts = opts[4+l:]
	}
	return Answer
}

// skipRR returns the offset just past the resource record at msg[off:] and
// its type.
func skipRR(msg []byte, off int) (int, uint16, error) {
	off, err := SkipName(msg, off)
	if err != nil {
		return 0, 0, err
	}
	if off+10 > len(msg) {
		return 0, 0, ErrShort
	}
	typ := Uint16(msg[off:])
	end := off + 10 + int(Uint16(msg[off+8:]))
	if end > len(msg) {
		return 0, 0, ErrShort
	}
	return end, typ, nil
}
