package zone

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"
)

const goodZone = `$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster (
                1 7200 3600 1209600 300 )
        IN NS  ns1
ns1     IN A   192.0.2.53
WWW     IN A   192.0.2.80
        IN A   192.0.2.80 ; a duplicate, dropped
a.b.c   IN TXT "deep"
*.wild  IN A   192.0.2.200
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.1
`

func TestReadTree(t *testing.T) {
	z, err := Read(strings.NewReader(goodZone), "good.zone")
	if err != nil {
		t.Fatal(err)
	}
	if z.Origin != "example.com." {
		t.Errorf("Origin = %q", z.Origin)
	}
	tests := []struct {
		name  string
		exist bool
		sets  int
	}{
		{"example.com.", true, 2},
		{"www.example.com.", true, 1},
		{"WwW.Example.Com.", true, 1},
		{"b.c.example.com.", true, 0}, // empty non-terminal
		{"c.example.com.", true, 0},
		{"nope.example.com.", false, 0},
		{"*.wild.example.com.", true, 1},
	}
	for _, tt := range tests {
		n := z.Lookup(MustKey(tt.name))
		if (n != nil) != tt.exist {
			t.Errorf("%s: exists = %v, want %v", tt.name, n != nil, tt.exist)
			continue
		}
		if n != nil && len(n.Sets) != tt.sets {
			t.Errorf("%s: %d RRsets, want %d", tt.name, len(n.Sets), tt.sets)
		}
	}
	if got := len(z.Lookup(MustKey("www.example.com.")).RRset(dns.TypeA).RRs); got != 1 {
		t.Errorf("www A: %d records, want 1 (duplicates dropped)", got)
	}
	ns := z.Lookup(MustKey("ns.sub.example.com."))
	if cut := z.Cut(ns); cut == nil || cut.Name != "sub.example.com." {
		t.Errorf("Cut(ns.sub) = %v, want sub.example.com.", cut)
	}
	if cut := z.Cut(z.Lookup(MustKey("ns1.example.com."))); cut != nil {
		t.Errorf("Cut(ns1) = %v, want nil", cut.Name)
	}
	ce, exact := z.ClosestEncloser(MustKey("x.y.b.c.example.com."))
	if ce.Name != "b.c.example.com." || exact {
		t.Errorf("ClosestEncloser(x.y.b.c) = %s, %v", ce.Name, exact)
	}
	if w := z.Wildcard(z.Lookup(MustKey("wild.example.com."))); w == nil || !w.IsWildcard() {
		t.Errorf("Wildcard(wild) = %v", w)
	}
}

// TestReadNSEC3 checks that the names of NSEC3 records do not exist for
// queries (RFC 5155 §7.2.8) unless they hold other data or names below,
// and that they are still among the nodes, for transfers.
func TestReadNSEC3(t *testing.T) {
	const nsec3 = " NSEC3 1 0 0 - 35JTMRQEFFGOH561OJGVUN7V8EPBQV8B A RRSIG\n"
	const sig = " RRSIG NSEC3 13 3 60 20271124041742 20261124041742 9512 example.com. Y93nL6o1aOcRCiwgbjU0ZtenYRdWOdohPco2OSaioqZcfViamiUHqET8vXzuaZP0F3VYDvBxqFxEJx0bG5Lvag==\n"
	text := "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n" +
		"0madr2c2o78cqsoquiejtbeh6gfgb0ff" + nsec3 + "0madr2c2o78cqsoquiejtbeh6gfgb0ff" + sig +
		"bare" + nsec3 +
		"data" + nsec3 + "data A 192.0.2.2\n" +
		"parent" + nsec3 + "x.parent A 192.0.2.3\n"
	z, err := Read(strings.NewReader(text), "nsec3.zone")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		exist bool
	}{
		{"0madr2c2o78cqsoquiejtbeh6gfgb0ff.example.com.", false}, // NSEC3 and its RRSIG
		{"bare.example.com.", false},
		{"data.example.com.", true},   // an A too
		{"parent.example.com.", true}, // a name below
		{"x.parent.example.com.", true},
	}
	inNodes := map[string]bool{}
	for _, n := range z.Nodes() {
		inNodes[n.Name] = true
	}
	for _, tt := range tests {
		if got := z.Lookup(MustKey(tt.name)) != nil; got != tt.exist {
			t.Errorf("%s: exists = %v, want %v", tt.name, got, tt.exist)
		}
		if ce, exact := z.ClosestEncloser(MustKey(tt.name)); exact != tt.exist || !tt.exist && ce != z.Apex {
			t.Errorf("%s: ClosestEncloser = %s, %v", tt.name, ce.Name, exact)
		}
		if !inNodes[tt.name] {
			t.Errorf("%s: not among the nodes", tt.name)
		}
	}
}

func TestReadErrors(t *testing.T) {
	const head = "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n" // lines 1-4
	tests := []struct {
		name, zone, want string
	}{
		{"syntax", head + "www A 1.2.3\n", "bad.zone:5: bad A A near \"1.2.3\""},
		{"unknown type", head + "www BOGUS 1\n", "bad.zone:5:"},
		{"no SOA first", "$ORIGIN example.com.\nwww 60 A 192.0.2.1\n", "bad.zone:2: the first record must be the zone's SOA, not A"},
		{"empty", "; nothing\n", "bad.zone:1: no records"},
		{"out of zone", head + "www.example.net. A 192.0.2.1\n", "bad.zone:5: www.example.net. is out of zone example.com."},
		{"second SOA", head + "\n\n@ SOA ns1 h 2 2 3 4 5\n", "bad.zone:7: a second SOA record"},
		{"SOA below apex", head + "x SOA ns1 h 2 2 3 4 5\n", "bad.zone:5: SOA record at x.example.com., below the apex"},
		{"CNAME and A", head + "www A 192.0.2.1\nwww CNAME x\n", "bad.zone:6: CNAME and other data at www.example.com."},
		{"A and CNAME", head + "www CNAME x\nwww A 192.0.2.1\n", "bad.zone:6: CNAME and other data"},
		{"two CNAMEs", head + "www CNAME x\nwww CNAME y\n", "bad.zone:6: more than one CNAME record"},
		{"class CH", head + "www CH A 192.0.2.1\n", "bad.zone:5: class CH: only IN is served"},
		{"no NS", "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\nwww A 192.0.2.1\n", "bad.zone:3: no NS records at the apex"},
		{"below DNAME", head + "d DNAME example.net.\nx.d A 192.0.2.1\n", "bad.zone:6: x.d.example.com. is below the DNAME at d.example.com."},
		{"NS at a wildcard", head + "*.w NS ns1\n", "bad.zone:5: NS at the wildcard *.w.example.com."},
		{"include", head + "$INCLUDE /etc/passwd\n", "bad.zone:5:"},
		{"multi-line record", head + "www TXT ( \"a\"\n \"b\" )\nbad A (\n 1.2.3.4.5 )\n", "bad.zone:8: bad A A"},
		{"error after multi-line", head + "x MX ( 10\n mail )\nx CNAME y\n", "bad.zone:7: CNAME and other data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.zone), "bad.zone")
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var ze *Error
			if !errors.As(err, &ze) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestReadPaddedDevice(t *testing.T) {
	data := append([]byte(goodZone), make([]byte, 4096)...)
	data = append(data, "garbage after the padding\n"...)
	z, err := LoadFS(fstest.MapFS{"dev": {Data: data}}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if z.Lookup(MustKey("www.example.com.")) == nil {
		t.Error("www.example.com. missing")
	}
}

func TestSet(t *testing.T) {
	parent, err := Read(strings.NewReader(goodZone), "p")
	if err != nil {
		t.Fatal(err)
	}
	child, err := Read(strings.NewReader("$ORIGIN sub.example.com.\n@ 60 SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\n"), "c")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet(parent, child)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*Zone{
		"example.com.":         parent,
		"www.example.com.":     parent,
		"sub.example.com.":     child,
		"a.b.sub.example.com.": child,
		"example.net.":         nil,
		".":                    nil,
	} {
		if got := s.Find(MustKey(name)); got != want {
			t.Errorf("Find(%s) = %v, want %v", name, got, want)
		}
	}
	if s.Parent(child) != parent || s.Parent(parent) != nil {
		t.Error("Parent is wrong")
	}
	if _, err := NewSet(parent, parent); err == nil {
		t.Error("NewSet accepted a zone twice")
	}
}

// sectorDisk is a disk in memory that, like a block device, refuses
// requests that are not whole sectors.
type sectorDisk struct {
	data   []byte
	sector int
}

func (d sectorDisk) ReadAt(p []byte, off int64) (int, error) {
	if off%int64(d.sector) != 0 || len(p)%d.sector != 0 {
		return 0, errors.New("misaligned")
	}
	return copy(p, d.data[off:]), nil
}

func TestReadBlocks(t *testing.T) {
	for _, sector := range []int{512, 4096} {
		data := append([]byte(goodZone), make([]byte, 3*65536-len(goodZone))...)
		z, err := ReadBlocks(sectorDisk{data, sector}, int64(len(data)), sector, "disk")
		if err != nil {
			t.Fatalf("sector %d: %v", sector, err)
		}
		if z.Lookup(MustKey("ns.sub.example.com.")) == nil {
			t.Errorf("sector %d: the last record is missing", sector)
		}
	}
	// A zone longer than one 64 KiB read: every chunk must be read.
	var big strings.Builder
	big.WriteString(goodZone)
	for i := 0; big.Len() < 200<<10; i++ {
		fmt.Fprintf(&big, "host%d A 192.0.2.%d\n", i, i%250+1)
	}
	data := append([]byte(big.String()), make([]byte, 512)...)
	data = data[:len(data)/512*512]
	z, err := ReadBlocks(sectorDisk{data, 512}, int64(len(data)), 512, "disk")
	if err != nil {
		t.Fatalf("a zone of %d bytes: %v", len(data), err)
	}
	if z.Lookup(MustKey("host5000.example.com.")) == nil {
		t.Errorf("a zone of %d bytes: a record past the first chunk is missing", len(data))
	}
	bad := append([]byte(goodZone+"x CNAME y\nx A 192.0.2.1\n"), make([]byte, 512)...)
	bad = bad[:len(bad)/512*512]
	if _, err := ReadBlocks(sectorDisk{bad, 512}, int64(len(bad)), 512, "disk"); err == nil || !strings.HasPrefix(err.Error(), "disk:14: CNAME and other data") {
		t.Errorf("error %v, want disk:14: CNAME and other data", err)
	}
}
