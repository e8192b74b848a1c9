package zone

import (
	"bufio"
	"io"
)

// lineReader feeds miekg's zone parser byte by byte (the parser uses an
// io.ByteReader as it is, without buffering ahead of it), so that the line
// on which each record starts is known: the parser reports lines for its own
// syntax errors, but not for the records it returns, and the checks made
// after parsing (CNAME and other data, out-of-zone names) need them too.
//
// It also ends the input at the first NUL byte: a zone on a block device is
// the master file followed by the zeros that pad the device.
type lineReader struct {
	r     *bufio.Reader
	line  int  // line of the next byte
	start int  // line of the first content byte since mark, 0 if none yet
	state byte // 0: in a record, ';': in a comment, '"': in a string
	esc   bool
	dir   bool // the line at start is a directive ($ORIGIN, $TTL), not a record
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReader(r), line: 1}
}

// mark starts looking for the first line of the next record.
func (lr *lineReader) mark() { lr.start, lr.dir = 0, false }

// recordLine returns the line where the record read since mark began.
func (lr *lineReader) recordLine() int {
	if lr.start == 0 {
		return lr.line
	}
	return lr.start
}

func (lr *lineReader) ReadByte() (byte, error) {
	c, err := lr.r.ReadByte()
	if err != nil {
		return 0, err
	}
	if c == 0 {
		return 0, io.EOF
	}
	line := lr.line
	switch {
	case c == '\n':
		lr.line++
		if lr.state == ';' {
			lr.state = 0
		}
		if lr.dir {
			lr.start, lr.dir = 0, false
		}
	case lr.state == ';':
	case lr.state == '"':
		switch {
		case lr.esc:
			lr.esc = false
		case c == '\\':
			lr.esc = true
		case c == '"':
			lr.state = 0
		}
	case c == ';':
		lr.state = ';'
	case c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ')':
	default:
		if c == '"' {
			lr.state = '"'
		}
		if lr.start == 0 {
			lr.start = line
			lr.dir = c == '$'
		}
	}
	return c, nil
}

// Read is there for io.Reader; the parser uses ReadByte.
func (lr *lineReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := lr.ReadByte()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		p[i] = c
	}
	return len(p), nil
}
