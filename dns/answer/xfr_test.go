package answer

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/dns/wire"
	"github.com/morgana-os/morgana/dns/zone"
)

// TestTransfer streams each zone of testdata and checks the stream: SOA
// first and last, every record of the master file once, the question in
// the first message only, the query's ID in all.
func TestTransfer(t *testing.T) {
	tab := testTable(t)
	for _, origin := range []string{"example.com.", "example.org."} {
		msg := pack(t, strings.ToUpper(origin), dns.TypeAXFR, 1232, false)
		var q wire.Query
		dst := make([]byte, BufferSize)
		refusal, x := tab.Respond(dst, msg, &q, TCP)
		if x == nil {
			t.Fatalf("%s: no transfer", origin)
		}
		if m := new(dns.Msg); m.Unpack(refusal) != nil || m.Rcode != dns.RcodeRefused {
			t.Errorf("%s: the refusal is not REFUSED", origin)
		}
		var got []string
		var msgs int
		err := x.Send(dst, msg, &q, func(b []byte) error {
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Fatalf("message %d: %v", msgs, err)
			}
			if m.Id != 0x1234 || !m.Authoritative || m.Rcode != 0 || len(m.Question) != map[bool]int{true: 1}[msgs == 0] {
				t.Errorf("message %d: id %#x aa %v rcode %d, %d questions", msgs, m.Id, m.Authoritative, m.Rcode, len(m.Question))
			}
			for _, rr := range m.Answer {
				got = append(got, strings.ToLower(rr.String()))
			}
			msgs++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 || !strings.Contains(got[0], "\tsoa\t") || got[0] != got[len(got)-1] {
			t.Fatalf("%s: the stream does not begin and end with the SOA", origin)
		}
		z, err := zone.Load("testdata/" + strings.TrimSuffix(origin, ".") + ".zone")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, n := range z.Nodes() {
			for _, s := range n.Sets {
				for _, rr := range s.RRs {
					want = append(want, strings.ToLower(rr.String()))
				}
			}
		}
		want = append(want, want[0]) // the SOA again
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: the stream holds\n%s\nwant\n%s", origin, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		t.Logf("%s: %d records in %d messages", origin, len(got), msgs)
	}
}

// TestTransferIXFR: an IXFR over UDP from an allowed client gets the SOA
// alone.
func TestTransferIXFR(t *testing.T) {
	tab := testTable(t)
	m := new(dns.Msg)
	m.SetIxfr("example.com.", 1, "ns1.example.com.", "hostmaster.example.com.")
	msg, _ := m.Pack()
	var q wire.Query
	dst := make([]byte, MaxUDPSize)
	_, x := tab.Respond(dst, msg, &q, UDP)
	if x == nil {
		t.Fatal("no transfer for IXFR")
	}
	r := new(dns.Msg)
	if err := r.Unpack(x.UDP(dst, msg, &q)); err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA || !r.Authoritative {
		t.Errorf("IXFR over UDP: %v", r)
	}
}

// TestTransferMessages transfers a zone too big for one message.
func TestTransferMessages(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN big.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n")
	const hosts = 3000
	for i := range hosts {
		b.WriteString("host" + strings.Repeat("x", i%40) + "-" + string(rune('a'+i%26)) + itoa(i) + " TXT \"record number " + itoa(i) + "\"\n")
	}
	z, err := zone.Read(strings.NewReader(b.String()), "big.test")
	if err != nil {
		t.Fatal(err)
	}
	set, _ := zone.NewSet(z)
	tab, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	msg := pack(t, "big.test.", dns.TypeAXFR, 0, false)
	var q wire.Query
	dst := make([]byte, BufferSize)
	_, x := tab.Respond(dst, msg, &q, TCP)
	records, msgs := 0, 0
	if err := x.Send(dst, msg, &q, func(b []byte) error {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("message %d: %v", msgs, err)
		}
		if len(b) > xfrMessageSize+1024 {
			t.Errorf("message %d: %d bytes", msgs, len(b))
		}
		records += len(m.Answer)
		msgs++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := hosts + 4; records != want || msgs < 5 {
		t.Errorf("%d records in %d messages, want %d in several", records, msgs, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
