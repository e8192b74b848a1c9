package wire

import (
	"bytes"
	"testing"
)

// query builds a query message: the header fields given, then the raw
// question and the other sections.
func query(id, flags, qd, an, ns, ar uint16, rest ...[]byte) []byte {
	msg := make([]byte, HeaderLen)
	PutHeader(msg, id, flags, qd, an, ns, ar)
	for _, r := range rest {
		msg = append(msg, r...)
	}
	return msg
}

var (
	wwwA   = []byte("\x03WwW\x07example\x03com\x00\x00\x01\x00\x01")
	opt    = []byte("\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00") // 1232, DO
	optV1  = []byte("\x00\x00\x29\x04\xd0\x00\x01\x00\x00\x00\x00")
	optPad = []byte("\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x08\x00\x0c\x00\x04abcd")
	optBad = []byte("\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x05\x00\x0c\x00\x04a")
	optNam = []byte("\x01a\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00")
	tsig   = []byte("\x03key\x00\x00\xfa\x00\xff\x00\x00\x00\x00\x00\x00")
	soaRR  = []byte("\x07example\x03com\x00\x00\x06\x00\x01\x00\x00\x00\x00\x00\x00")
)

func TestParse(t *testing.T) {
	long := bytes.Repeat([]byte("\x3f"+string(bytes.Repeat([]byte("a"), 63))), 4) // 256 bytes of labels
	tests := []struct {
		name string
		msg  []byte
		want Verdict
		edns bool
		do   bool
	}{
		{"plain", query(1, 0, 1, 0, 0, 0, wwwA), Answer, false, false},
		{"RD and CD", query(1, FlagRD|FlagCD, 1, 0, 0, 0, wwwA), Answer, false, false},
		{"EDNS DO", query(1, 0, 1, 0, 0, 1, wwwA, opt), Answer, true, true},
		{"EDNS option", query(1, 0, 1, 0, 0, 1, wwwA, optPad), Answer, true, false},
		{"trailing bytes", query(1, 0, 1, 0, 0, 0, wwwA, []byte("garbage")), Answer, false, false},
		{"IXFR with SOA", query(1, 0, 1, 0, 1, 0, []byte("\x07example\x03com\x00\x00\xfb\x00\x01"), soaRR), Answer, false, false},
		{"EDNS version 1", query(1, 0, 1, 0, 0, 1, wwwA, optV1), BadVers, true, false},
		{"empty", nil, Drop, false, false},
		{"short header", []byte{1, 2, 3}, Drop, false, false},
		{"a response", query(1, FlagQR, 1, 0, 0, 0, wwwA), Drop, false, false},
		{"opcode STATUS", query(1, 2<<11, 1, 0, 0, 0, wwwA), NotImp, false, false},
		{"opcode NOTIFY", query(1, 4<<11, 1, 0, 0, 0, wwwA), NotImp, false, false},
		{"rcode set", query(1, 3, 1, 0, 0, 0, wwwA), FormErr, false, false},
		{"no question", query(1, 0, 0, 0, 0, 0), FormErr, false, false},
		{"two questions", query(1, 0, 2, 0, 0, 0, wwwA, wwwA), FormErr, false, false},
		{"answer section", query(1, 0, 1, 1, 0, 0, wwwA, soaRR), FormErr, false, false},
		{"authority section", query(1, 0, 1, 0, 1, 0, wwwA, soaRR), FormErr, false, false},
		{"IXFR without SOA", query(1, 0, 1, 0, 0, 0, []byte("\x07example\x03com\x00\x00\xfb\x00\x01")), FormErr, false, false},
		{"question cut short", query(1, 0, 1, 0, 0, 0, wwwA[:10]), FormErr, false, false},
		{"no type", query(1, 0, 1, 0, 0, 0, wwwA[:len(wwwA)-3]), FormErr, false, false},
		{"pointer in question", query(1, 0, 1, 0, 0, 0, []byte("\xc0\x0c\x00\x01\x00\x01")), FormErr, false, false},
		{"pointer loop", query(1, 0, 1, 0, 0, 0, []byte("\x01a\xc0\x0c\x00\x01\x00\x01")), FormErr, false, false},
		{"label type 01", query(1, 0, 1, 0, 0, 0, []byte("\x41a\x00\x00\x01\x00\x01")), FormErr, false, false},
		{"name too long", query(1, 0, 1, 0, 0, 0, long, []byte("\x00\x00\x01\x00\x01")), FormErr, false, false},
		{"OPT twice", query(1, 0, 1, 0, 0, 2, wwwA, opt, opt), FormErr, true, true},
		{"OPT bad option", query(1, 0, 1, 0, 0, 1, wwwA, optBad), FormErr, true, false},
		{"OPT owner not root", query(1, 0, 1, 0, 0, 1, wwwA, optNam), FormErr, false, false},
		{"TSIG", query(1, 0, 1, 0, 0, 1, wwwA, tsig), FormErr, false, false},
		{"additional cut short", query(1, 0, 1, 0, 0, 1, wwwA, opt[:7]), FormErr, false, false},
		{"ARCOUNT beyond the message", query(1, 0, 1, 0, 0, 9, wwwA, opt), FormErr, true, true},
	}
	var q Query
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := q.Parse(tt.msg)
			if got != tt.want {
				t.Fatalf("Parse = %d, want %d", got, tt.want)
			}
			if q.EDNS != tt.edns || q.DO != tt.do {
				t.Errorf("EDNS, DO = %v, %v; want %v, %v", q.EDNS, q.DO, tt.edns, tt.do)
			}
			if got == Answer || got == BadVers {
				if q.ID != 1 {
					t.Errorf("ID = %d, want 1", q.ID)
				}
				if q.QEnd > len(tt.msg) {
					t.Errorf("QEnd %d beyond the message (%d)", q.QEnd, len(tt.msg))
				}
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	var q Query
	msg := query(0xbeef, FlagRD, 1, 0, 0, 1, wwwA, opt)
	if v := q.Parse(msg); v != Answer {
		t.Fatalf("Parse = %d", v)
	}
	if q.ID != 0xbeef || q.Flags != FlagRD || q.Type != 1 || q.Class != ClassIN || q.UDPSize != 1232 || q.Version != 0 {
		t.Errorf("fields: %+v", q)
	}
	if string(q.Name) != "\x03www\x07example\x03com\x00" {
		t.Errorf("Name = %q, want lowered", q.Name)
	}
	if string(msg[HeaderLen:q.QEnd]) != string(wwwA) {
		t.Errorf("question = %q, want %q (case kept)", msg[HeaderLen:q.QEnd], wwwA)
	}
}

func TestParseAllocs(t *testing.T) {
	var q Query
	msg := query(1, 0, 1, 0, 0, 1, wwwA, optPad)
	if n := testing.AllocsPerRun(100, func() { q.Parse(msg) }); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func TestNames(t *testing.T) {
	name := []byte("\x01a\x01b\x00")
	if got := Labels(name); got != 2 {
		t.Errorf("Labels = %d", got)
	}
	if got := Parent(name); string(got) != "\x01b\x00" {
		t.Errorf("Parent = %q", got)
	}
	if got := Parent([]byte{0}); got != nil {
		t.Errorf("Parent(root) = %q", got)
	}
	for _, tt := range []struct {
		msg  string
		end  int
		fail bool
	}{
		{"\x01a\x00", 3, false},
		{"\x01a\xc0\x00", 4, false},
		{"\x01a\xc0", 0, true},
		{"\x01", 0, true},
		{"\x80", 0, true},
	} {
		end, err := SkipName([]byte(tt.msg), 0)
		if (err != nil) != tt.fail || end != tt.end {
			t.Errorf("SkipName(%q) = %d, %v", tt.msg, end, err)
		}
	}
}

// FuzzParse checks that no message makes Parse panic or report fields
// outside the message.
func FuzzParse(f *testing.F) {
	f.Add(query(1, 0, 1, 0, 0, 1, wwwA, opt))
	f.Add(query(1, 0, 1, 0, 1, 0, []byte("\x07example\x03com\x00\x00\xfb\x00\x01"), soaRR))
	f.Add(query(1, 0, 1, 0, 0, 0, []byte("\x01a\xc0\x0c\x00\x01\x00\x01")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var q Query
		switch q.Parse(msg) {
		case Answer, BadVers:
			if q.QEnd > len(msg) || len(q.Name) == 0 || len(q.Name) > MaxName || q.Name[len(q.Name)-1] != 0 {
				t.Fatalf("QEnd %d, Name %q for a message of %d bytes", q.QEnd, q.Name, len(msg))
			}
		}
	})
}
