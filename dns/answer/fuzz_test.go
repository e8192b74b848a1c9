package answer

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/wire"
)

var (
	fuzzOnce  sync.Once
	fuzzTable *Table
)

// checkRespond answers msg over UDP and TCP and checks what any answer
// must be: within the size limit, with the query's ID, a response, and a
// message miekg/dns can decode.
func checkRespond(t *testing.T, tab *Table, msg []byte) {
	var q wire.Query
	for _, tr := range []Transport{UDP, TCP} {
		size := MaxUDPSize
		if tr == TCP {
			size = BufferSize
		}
		b, _ := tab.Respond(make([]byte, size), msg, &q, tr)
		if b == nil {
			continue
		}
		if len(b) > size || len(b) < wire.HeaderLen {
			t.Fatalf("transport %d: %d bytes", tr, len(b))
		}
		if wire.Uint16(b) != wire.Uint16(msg) || wire.Uint16(b[2:])&wire.FlagQR == 0 {
			t.Fatalf("transport %d: header % x for a query with header % x", tr, b[:4], msg[:4])
		}
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			t.Fatalf("transport %d: the answer does not decode: %v\nquery % x\nanswer % x", tr, err, msg, b)
		}
	}
}

// FuzzRespond feeds the query path arbitrary messages. The seeds are in
// testdata/fuzz/FuzzRespond: queries of every kind the server answers and
// the malformed ones it must refuse (compression loops, truncation, bad
// OPT records, unknown opcodes and classes).
func FuzzRespond(f *testing.F) {
	f.Fuzz(func(t *testing.T, msg []byte) {
		fuzzOnce.Do(func() { fuzzTable = testTable(t) })
		checkRespond(t, fuzzTable, msg)
	})
}

// TestFuzzCorpus runs every file of the seed corpus through the query
// path, as `go test` does with FuzzRespond's seeds, and checks that the
// corpus is there: a corpus that went missing would make the fuzz test
// vacuous.
func TestFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzRespond/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d seeds in testdata/fuzz/FuzzRespond, want at least 20", len(files))
	}
	tab := testTable(t)
	for _, f := range files {
		msg, err := readCorpusFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkRespond(t, tab, msg) })
	}
}

// readCorpusFile reads a file of Go's fuzzing corpus format holding one
// []byte value.
func readCorpusFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	if !s.Scan() || s.Text() != "go test fuzz v1" {
		return nil, os.ErrInvalid
	}
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if v, ok := strings.CutPrefix(line, "[]byte("); ok {
			str, err := strconv.Unquote(strings.TrimSuffix(v, ")"))
			return []byte(str), err
		}
	}
	return nil, os.ErrInvalid
}
