// Package wire holds the DNS message format as far as an authoritative
// server reads it: the header, the question and the OPT record of a query
// (RFC 1035 §4, RFC 6891). It has no dependencies and allocates nothing, so
// that it can sit on the hot path; responses are assembled elsewhere (package
// answer) from bytes prepared at zone load.
//
// Names are handled in wire form throughout: a sequence of length-prefixed
// labels ending with the zero-length root label. The canonical key of a name
// is its wire form with ASCII letters lowered.
package wire

import "encoding/binary"

// HeaderLen is the length of the fixed DNS header.
const HeaderLen = 12

// Offsets of the header fields.
const (
	offID      = 0
	offFlags   = 2
	offQDCount = 4
	offANCount = 6
	offNSCount = 8
	offARCount = 10
)

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD).
const (
	FlagQR uint16 = 1 << 15
	FlagAA uint16 = 1 << 10
	FlagTC uint16 = 1 << 9
	FlagRD uint16 = 1 << 8
	FlagRA uint16 = 1 << 7
	FlagAD uint16 = 1 << 5
	FlagCD uint16 = 1 << 4

	// MaskOpcode and MaskRcode select the opcode and the RCODE's low bits.
	MaskOpcode uint16 = 0xf << opcodeShift
	MaskRcode  uint16 = 0xf

	opcodeShift = 11
)

// Response codes. Codes above 15 (BADVERS) live partly in the OPT record.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
	RcodeNotAuth  = 9
	RcodeBadVers  = 16
)

// Opcodes.
const (
	OpcodeQuery  = 0
	OpcodeNotify = 4
)

// Types and classes the parser and the hot path need to tell apart.
const (
	TypeSOA  uint16 = 6
	TypeOPT  uint16 = 41
	TypeDS   uint16 = 43
	TypeIXFR uint16 = 251
	TypeAXFR uint16 = 252
	TypeANY  uint16 = 255

	ClassIN  uint16 = 1
	ClassCH  uint16 = 3
	ClassANY uint16 = 255
)

// Size limits.
const (
	// MinUDPSize is the size every UDP response may have (RFC 1035 §2.3.4).
	MinUDPSize = 512
	// MaxMessage is the largest message, the limit of TCP's length prefix.
	MaxMessage = 65535
	// MaxName is the longest name in wire form (RFC 1035 §3.1).
	MaxName = 255
	// OPTLen is the length of an OPT record with no options.
	OPTLen = 11
)

// Uint16 reads a big-endian 16-bit field.
func Uint16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// PutUint16 writes a big-endian 16-bit field.
func PutUint16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

// Opcode returns the opcode of a flags field.
func Opcode(flags uint16) int { return int(flags&MaskOpcode) >> opcodeShift }

// Rcode returns the (4-bit) response code of a flags field.
func Rcode(flags uint16) int { return int(flags & MaskRcode) }

// SetCounts writes the four section counts of a header.
func SetCounts(h []byte, qd, an, ns, ar uint16) {
	PutUint16(h[offQDCount:], qd)
	PutUint16(h[offANCount:], an)
	PutUint16(h[offNSCount:], ns)
	PutUint16(h[offARCount:], ar)
}

// PutHeader writes a whole header: id, flags and counts.
func PutHeader(h []byte, id, flags, qd, an, ns, ar uint16) {
	PutUint16(h[offID:], id)
	PutUint16(h[offFlags:], flags)
	SetCounts(h, qd, an, ns, ar)
}
