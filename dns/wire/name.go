package wire

import "errors"

// Errors of name parsing. The parser never follows compression pointers,
// so no input can make it loop.
var (
	ErrShort   = errors.New("message truncated")
	ErrLabel   = errors.New("bad label type")
	ErrNameLen = errors.New("name longer than 255 bytes")
	ErrPointer = errors.New("compression pointer where none is allowed")
)

// lower maps a byte to itself, ASCII upper case letters to lower case.
var lower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

// ReadName reads the uncompressed name at msg[off:], as a question holds it,
// lowers its ASCII letters into dst (which must hold MaxName bytes) and
// returns the lowered name and the offset just past it.
func ReadName(msg []byte, off int, dst []byte) (name []byte, end int, err error) {
	n := 0
	for {
		if off >= len(msg) {
			return nil, 0, ErrShort
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if n+1 > MaxName {
				return nil, 0, ErrNameLen
			}
			dst[n] = 0
			return dst[:n+1], off + 1, nil
		case l&0xc0 == 0xc0:
			return nil, 0, ErrPointer
		case l&0xc0 != 0:
			return nil, 0, ErrLabel
		}
		if off+1+l > len(msg) {
			return nil, 0, ErrShort
		}
		if n+1+l+1 > MaxName {
			return nil, 0, ErrNameLen
		}
		dst[n] = byte(l)
		src := msg[off+1 : off+1+l]
		d := dst[n+1 : n+1+len(src)]
		for i, c := range src {
			d[i] = lower[c]
		}
		n += 1 + l
		off += 1 + l
	}
}

// SkipName returns the offset just past the possibly compressed name at
// msg[off:]. A pointer ends the name and is not followed.
func SkipName(msg []byte, off int) (int, error) {
	for n := 0; ; {
		if off >= len(msg) {
			return 0, ErrShort
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return 0, ErrShort
			}
			return off + 2, nil
		case l&0xc0 != 0:
			return 0, ErrLabel
		}
		n += 1 + l
		if n >= MaxName {
			return 0, ErrNameLen
		}
		off += 1 + l
	}
}

// Parent returns name without its first label, or nil for the root.
func Parent(name []byte) []byte {
	if len(name) == 0 || name[0] == 0 {
		return nil
	}
	return name[1+int(name[0]):]
}

// Labels returns the number of labels of a wire name, the root not counted.
func Labels(name []byte) int {
	n := 0
	for len(name) > 0 && name[0] != 0 {
		name = name[1+int(name[0]):]
		n++
	}
	return n
}
