package answer

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/lookup"
	"github.com/morgana-os/morgana/dns/wire"
)

// maxPointer is the largest offset a compression pointer of a template may
// target: a query name longer than the model moves it by at most 255.
const maxPointer = 0x3fff - wire.MaxName

// encoder builds a template: a response body compressed against the model
// name standing in the question at offset 12.
type encoder struct {
	mode   mode
	model  string
	buf    []byte         // header and question placeholders, then the body
	start  int            // where the body starts in buf
	dict   map[string]int // key of a name written -> its offset in buf
	relocs []uint16
	tmp    []byte
}

// encode turns a lookup's response into a template. tmp is scratch space
// of wire.MaxMessage bytes, or nil.
func encode(resp *lookup.Response, model string, m mode, tmp []byte) (*template, error) {
	e := newEncoder(model, m, tmp)
	t := &template{modelLen: len(model), delegation: resp.Delegation}
	if resp.AA {
		t.flags |= wire.FlagAA
	}
	t.flags |= uint16(resp.Rcode & 0xf)
	var counts [3]uint16
	for _, s := range resp.Sets {
		for _, rr := range s.RRs {
			if err := e.rr(s.Owner, rr); err != nil {
				return nil, fmt.Errorf("encode %s: %w", rr.Header().String(), err)
			}
			counts[s.Section.Counted()]++
		}
		if len(e.buf)-e.start > wire.MaxMessage {
			break // beyond any message; fit never gets this far
		}
		t.sets = append(t.sets, boundary{end: uint16(len(e.buf) - e.start), counts: counts, section: s.Section})
	}
	t.body = append([]byte(nil), e.buf[e.start:]...) // no spare capacity kept
	if m != exact {
		t.relocs = e.relocs
	}
	return t, nil
}

// newEncoder returns an encoder whose message has the model as its
// question; with no model, it has no question. tmp is a scratch buffer of
// wire.MaxMessage bytes, or nil to allocate one.
func newEncoder(model string, m mode, tmp []byte) *encoder {
	if tmp == nil {
		tmp = make([]byte, wire.MaxMessage)
	}
	e := &encoder{mode: m, model: model, dict: map[string]int{}, tmp: tmp}
	e.buf = make([]byte, wire.HeaderLen, 512)
	if model != "" {
		e.buf = append(e.buf, model...)
		e.buf = append(e.buf, 0, 0, 0, 0) // QTYPE, QCLASS
	}
	e.start = len(e.buf)
	for k := model; len(k) > 1; k = k[1+int(k[0]):] {
		off := wire.HeaderLen + len(model) - len(k)
		if m == wild && off == wire.HeaderLen {
			continue // the wildcard name itself is not in the message
		}
		e.dict[k] = off
	}
	return e
}

// rr appends one record, its owner being the name with key owner.
func (e *encoder) rr(owner string, rr dns.RR) error {
	h := rr.Header()
	if e.mode == wild && owner == e.model {
		e.buf = append(e.buf, 0xc0, wire.HeaderLen) // the query name
	} else {
		e.name([]byte(owner), true)
	}
	e.buf = append(e.buf, byte(h.Rrtype>>8), byte(h.Rrtype), byte(h.Class>>8), byte(h.Class),
		byte(h.Ttl>>24), byte(h.Ttl>>16), byte(h.Ttl>>8), byte(h.Ttl), 0, 0)
	rdStart := len(e.buf)
	if err := e.rdata(rr); err != nil {
		return err
	}
	rdlen := len(e.buf) - rdStart
	if rdlen > 0xffff {
		return fmt.Errorf("rdata of %d bytes", rdlen)
	}
	wire.PutUint16(e.buf[rdStart-2:], uint16(rdlen))
	return nil
}

// rdata appends the rdata of rr, compressing the names of the types that
// RFC 1035 defines with compressible names (RFC 3597 §4 forbids it for
// later types; NSD does the same).
func (e *encoder) rdata(rr dns.RR) error {
	switch rr := rr.(type) {
	case *dns.NS:
		return e.rdName(rr.Ns)
	case *dns.CNAME:
		return e.rdName(rr.Target)
	case *dns.PTR:
		return e.rdName(rr.Ptr)
	case *dns.MB:
		return e.rdName(rr.Mb)
	case *dns.MG:
		return e.rdName(rr.Mg)
	case *dns.MR:
		return e.rdName(rr.Mr)
	case *dns.MD:
		return e.rdName(rr.Md)
	case *dns.MF:
		return e.rdName(rr.Mf)
	case *dns.MINFO:
		if err := e.rdName(rr.Rmail); err != nil {
			return err
		}
		return e.rdName(rr.Email)
	case *dns.MX:
		e.buf = append(e.buf, byte(rr.Preference>>8), byte(rr.Preference))
		return e.rdName(rr.Mx)
	case *dns.SOA:
		if err := e.rdName(rr.Ns); err != nil {
			return err
		}
		if err := e.rdName(rr.Mbox); err != nil {
			return err
		}
		for _, v := range []uint32{rr.Serial, rr.Refresh, rr.Retry, rr.Expire, rr.Minttl} {
			e.buf = append(e.buf, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		}
		return nil
	}
	// Any other type: miekg's packing, uncompressed; the rdata is what
	// follows the owner name and the 10 bytes of type, class, TTL, length.
	end, err := dns.PackRR(rr, e.tmp, 0, nil, false)
	if err != nil {
		return err
	}
	off, err := wire.SkipName(e.tmp[:end], 0)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, e.tmp[off+10:end]...)
	return nil
}

// rdName appends a name of rdata in presentation form.
func (e *encoder) rdName(name string) error {
	n, err := dns.PackDomainName(name, e.tmp, 0, nil, false)
	if err != nil {
		return err
	}
	e.name(e.tmp[:n], true)
	return nil
}

// name appends the wire name w, compressed against the names already
// written (case-insensitively) when compress is set, and records its
// suffixes for later names.
func (e *encoder) name(w []byte, compress bool) {
	for i := 0; i < len(w); {
		l := int(w[i])
		if l == 0 {
			e.buf = append(e.buf, 0)
			return
		}
		key := lowerKey(w[i:])
		if off, ok := e.dict[key]; ok && compress {
			if e.mode != exact {
				e.relocs = append(e.relocs, uint16(len(e.buf)-e.start))
			}
			e.buf = append(e.buf, 0xc0|byte(off>>8), byte(off))
			return
		}
		if pos := len(e.buf); pos <= maxPointer {
			if _, ok := e.dict[key]; !ok {
				e.dict[key] = pos
			}
		}
		e.buf = append(e.buf, w[i:i+1+l]...)
		i += 1 + l
	}
}

// lowerKey returns the key (lowered wire form) of the wire name w.
func lowerKey(w []byte) string {
	b := make([]byte, len(w))
	for i, c := range w {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}
