package certstore

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	headerMagic   = "MGNACERT"
	formatVersion = 1
	headerLen     = 44

	recordMagic  = 0x52434da5 // a5 'M' 'C' 'R': not ASCII, so no PEM text can look like a record
	recordHeader = 32

	kindPut    = 1
	kindDelete = 2

	// MaxKeyLen bounds keys; autocert's are domain names with a suffix.
	MaxKeyLen = 1024
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a half's first sector.
type header struct {
	sector int64
	gen    uint64 // orders the halves: the higher is active
	half   int64  // the size of each half when the device was formatted
	id     uint64 // random, new at each format and compaction; records carry it
}

func (h header) encode(sector int64) []byte {
	b := make([]byte, sector)
	copy(b, headerMagic)
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.sector))
	binary.LittleEndian.PutUint64(b[16:], h.gen)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.half))
	binary.LittleEndian.PutUint64(b[32:], h.id)
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	return b
}

// decodeHeader returns the header in b; ok is false when b holds none, and
// why then says what is wrong with one that is there but damaged.
func decodeHeader(b []byte) (h header, ok bool, why string) {
	if len(b) < headerLen || string(b[:8]) != headerMagic {
		return header{}, false, ""
	}
	if crc32.Checksum(b[:40], castagnoli) != binary.LittleEndian.Uint32(b[40:]) {
		return header{}, false, "header checksum mismatch"
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return header{}, false, "unknown format version"
	}
	h = header{
		sector: int64(binary.LittleEndian.Uint32(b[12:])),
		gen:    binary.LittleEndian.Uint64(b[16:]),
		half:   int64(binary.LittleEndian.Uint64(b[24:])),
		id:     binary.LittleEndian.Uint64(b[32:]),
	}
	return h, true, ""
}

// record is one put or delete.
type record struct {
	id uint64 // of the half it was written to

	seq  uint64
	kind byte
	key  string
	val  []byte
}

// size is the record's length on the device, in whole sectors.
func (r *record) size(sector int64) int64 {
	return roundUp(int64(recordHeader+len(r.key)+len(r.val)), sector)
}

func (r *record) encode(sector int64) []byte {
	b := make([]byte, r.size(sector))
	binary.LittleEndian.PutUint32(b[0:], recordMagic)
	binary.LittleEndian.PutUint64(b[8:], r.id)
	binary.LittleEndian.PutUint64(b[16:], r.seq)
	b[24] = r.kind
	binary.LittleEndian.PutUint16(b[26:], uint16(len(r.key)))
	binary.LittleEndian.PutUint32(b[28:], uint32(len(r.val)))
	n := copy(b[recordHeader:], r.key)
	n += copy(b[recordHeader+n:], r.val)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:recordHeader+n], castagnoli))
	return b
}

// decodeRecord reads the record at the start of b (the rest of the half).
// It returns the record and its length on the device; ok is false when b
// does not start with a record, and why says so when it looked like one.
func decodeRecord(b []byte, sector int64) (r record, n int64, ok bool, why string) {
	if len(b) < recordHeader || binary.LittleEndian.Uint32(b) != recordMagic {
		return record{}, 0, false, ""
	}
	klen := int(binary.LittleEndian.Uint16(b[26:]))
	vlen := int64(binary.LittleEndian.Uint32(b[28:]))
	end := int64(recordHeader+klen) + vlen
	if end > int64(len(b)) {
		return record{}, 0, false, "length runs past the end of the half"
	}
	if crc32.Checksum(b[8:end], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return record{}, 0, false, "checksum mismatch (a torn or damaged write)"
	}
	kind := b[24]
	if kind != kindPut && kind != kindDelete || klen == 0 {
		return record{}, 0, false, "bad kind or empty key"
	}
	r = record{
		id:   binary.LittleEndian.Uint64(b[8:]),
		seq:  binary.LittleEndian.Uint64(b[16:]),
		kind: kind,
		key:  string(b[recordHeader : recordHeader+klen]),
		val:  append([]byte(nil), b[recordHeader+klen:end]...),
	}
	return r, roundUp(end, sector), true, ""
}

func roundUp(n, m int64) int64 { return (n + m - 1) / m * m }
