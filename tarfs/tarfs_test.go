package tarfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// ent is one entry of a test archive.
type ent struct {
	hdr  tar.Header
	body string
}

func regular(name, body string) ent {
	return ent{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: mtime}, body}
}

func dirEnt(name string) ent {
	return ent{tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: mtime}, ""}
}

func symlink(name, target string) ent {
	return ent{tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: mtime}, ""}
}

func hardlink(name, target string) ent {
	return ent{tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644, ModTime: mtime}, ""}
}

var mtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// archive writes a tar archive of the entries, as `tar cf` would: padded
// to a 10 KiB record.
func archive(t testing.TB, format tar.Format, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range ents {
		h := e.hdr
		h.Format = format
		if err := w.WriteHeader(&h); err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if r := b.Len() % 10240; r != 0 {
		b.Write(make([]byte, 10240-r))
	}
	return b.Bytes()
}

// sectorDevice is a disk as package block presents one: it refuses any
// request that is not whole sectors at a sector-aligned offset within the
// device, and counts requests.
type sectorDevice struct {
	data   []byte
	sector int
	reads  int
}

func newDevice(data []byte, sector int) *sectorDevice {
	if r := len(data) % sector; r != 0 {
		data = append(data, make([]byte, sector-r)...)
	}
	return &sectorDevice{data: data, sector: sector}
}

func (d *sectorDevice) SectorSize() int { return d.sector }
func (d *sectorDevice) Size() int64     { return int64(len(d.data)) }

var errMisaligned = errors.New("misaligned request")

func (d *sectorDevice) ReadAt(p []byte, off int64) (int, error) {
	d.reads++
	if off%int64(d.sector) != 0 || len(p)%d.sector != 0 {
		return 0, errMisaligned
	}
	if off < 0 || off > int64(len(d.data)) || int64(len(p)) > int64(len(d.data))-off {
		return 0, errors.New("request past the end of the device")
	}
	return copy(p, d.data[off:]), nil
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

// retype changes the type of the first header of an archive.
func retype(data []byte, typ byte) []byte {
	data = bytes.Clone(data)
	data[156] = typ
	sum := 0
	for i, c := range data[:512] {
		if i >= 148 && i < 156 {
			c = ' ' // the checksum field counts as spaces
		}
		sum += int(c)
	}
	copy(data[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return data
}

// sample is an archive with every kind of entry tarfs serves.
func sample(t testing.TB, format tar.Format) []byte {
	return archive(t, format,
		regular("README", "read me\n"),
		dirEnt("etc/"),
		regular("etc/site.crt", strings.Repeat("certificate ", 300)), // across sectors
		regular("etc/site.key", "key"),
		regular("deep/er/still/x.txt", "implied directories"),
		regular("empty", ""),
		symlink("etc/current.crt", "site.crt"),
		symlink("abs", "/etc/site.key"),
		symlink("etcdir", "etc"),
		hardlink("hard", "etc/site.key"),
	)
}

func TestFSTest(t *testing.T) {
	for _, format := range []tar.Format{tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU} {
		for _, sector := range []int{512, 4096} {
			t.Run(fmt.Sprintf("%v/%d", format, sector), func(t *testing.T) {
				dev := newDevice(sample(t, format), sector)
				f, err := Open(dev, dev.Size())
				if err != nil {
					t.Fatal(err)
				}
				if err := fstest.TestFS(f, "README", "etc/site.crt", "etc/site.key", "etc/current.crt", "deep/er/still/x.txt", "empty", "abs", "etcdir", "hard"); err != nil {
					t.Error(err)
				}
				if f.Files() != 6 {
					t.Errorf("Files() = %d, want 6", f.Files())
				}
			})
		}
	}
}

func TestRead(t *testing.T) {
	dev := newDevice(sample(t, tar.FormatPAX), 512)
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	crt := strings.Repeat("certificate ", 300)
	tests := []struct {
		name string
		want string
		err  string
	}{
		{"README", "read me\n", ""},
		{"etc/site.crt", crt, ""},
		{"etc/current.crt", crt, ""},    // a relative link
		{"abs", "key", ""},              // an absolute one: from the archive's root
		{"etcdir/current.crt", crt, ""}, // a link to a directory, then a link
		{"hard", "key", ""},             // a hard link
		{"deep/er/still/x.txt", "implied directories", ""},
		{"empty", "", ""},
		{"nosuch", "", "file does not exist"},
		{"README/x", "", "file does not exist"},
		{"etc", "", "is a directory"},
		{"./README", "", "invalid argument"},
		{"/README", "", "invalid argument"},
	}
	for _, tt := range tests {
		b, err := f.ReadFile(tt.name)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ReadFile(%q): %v, want an error with %q", tt.name, err, tt.err)
		case tt.err == "" && (err != nil || string(b) != tt.want):
			t.Errorf("ReadFile(%q) = %.40q, %v; want %.40q", tt.name, b, err, tt.want)
		}
	}
	if l, err := f.ReadLink("etc/current.crt"); l != "site.crt" || err != nil {
		t.Errorf("ReadLink = %q, %v", l, err)
	}
	if _, err := f.ReadLink("README"); err == nil {
		t.Errorf("ReadLink of a file succeeded")
	}
	if fi, err := f.Lstat("etcdir"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat of a link: %v, %v", fi, err)
	}
	if fi, err := f.Stat("etcdir"); err != nil || !fi.IsDir() || fi.Name() != "etcdir" {
		t.Errorf("Stat through a link to a directory: %v, %v", fi, err)
	}
	if fi, err := f.Stat("etc/site.crt"); err != nil || fi.Size() != int64(len(crt)) || !fi.ModTime().Equal(mtime) || fi.Mode() != 0o644 {
		t.Errorf("Stat: %v, %v", fi, err)
	}
}

// Names as tar writes them ("./x", "/x") are the file system's "x"; a name
// that appears twice is the later entry; links that leave the archive or
// loop fail as lookups, not at Open.
func TestNames(t *testing.T) {
	data := archive(t, tar.FormatGNU,
		regular("./dot", "dot"),
		regular("/abs/olute", "absolute"),
		regular("twice", "first"),
		regular("twice", "second"),
		dirEnt("./"),
		symlink("out", "../../etc/passwd"),
		symlink("loop1", "loop2"),
		symlink("loop2", "loop1"),
		symlink("dangling", "nowhere"),
	)
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"dot": "dot", "abs/olute": "absolute", "twice": "second"} {
		if b, err := f.ReadFile(name); string(b) != want || err != nil {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, b, err, want)
		}
	}
	for name, want := range map[string]string{"out": "leaves the archive", "loop1": "too many levels of symbolic links", "dangling": "file does not exist"} {
		if _, err := f.Open(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): %v, want an error with %q", name, err, want)
		}
	}
}

func TestBadArchives(t *testing.T) {
	good := archive(t, tar.FormatUSTAR, regular("a", strings.Repeat("x", 2000)), regular("b", "b"))
	garbage := randomBytes(4096, 1)
	big := archive(t, tar.FormatUSTAR, regular("big", ""))
	// A header that says the file is 1 MiB, on a device of 10 KiB.
	bigHdr := tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 20, Mode: 0o644}
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	w.WriteHeader(&bigHdr)
	copy(big, b.Bytes()[:512])

	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"garbage", garbage, "at byte 0: not a tar header"},
		{"truncated in a header", good[:512+2048+100], "truncated"},
		{"truncated in the data", good[:1024], `entry "a": its 2000 bytes at byte 512 go past the end of the archive (1024 bytes)`},
		{"size beyond the device", big, `entry "big": its 1048576 bytes at byte 512 go past the end of the archive (10240 bytes)`},
		{"dot dot", archive(t, tar.FormatPAX, regular("a/../../etc/passwd", "x")), `with ".." in it`},
		{"file then directory", archive(t, tar.FormatPAX, regular("a", "x"), dirEnt("a")), "both a directory and not one"},
		{"directory then file", archive(t, tar.FormatPAX, regular("a/b", "x"), regular("a", "y")), "both a directory and not one"},
		{"file under a file", archive(t, tar.FormatPAX, regular("a", "x"), regular("a/b", "y")), "a is not a directory"},
		{"file under a link", archive(t, tar.FormatPAX, symlink("a", "."), regular("a/b", "y")), "a is not a directory"},
		{"root a file", archive(t, tar.FormatPAX, regular(".", "x")), "the root is not a directory"},
		{"hard link to nothing", archive(t, tar.FormatPAX, hardlink("h", "nosuch")), "not a file earlier in the archive"},
		{"hard link out", archive(t, tar.FormatPAX, hardlink("h", "../x")), `with ".." in it`},
		{"symbolic link to nothing", archive(t, tar.FormatPAX, symlink("l", "")), "a symbolic link to nothing"},
		{"sparse", retype(archive(t, tar.FormatGNU, regular("s", "x")), tar.TypeGNUSparse), "sparse"},
		{"unknown type", retype(archive(t, tar.FormatGNU, regular("s", "x")), 'Q'), ""},
		{"long name", archive(t, tar.FormatPAX, regular(strings.Repeat("n", MaxName+1), "x")), "a name longer than 4096 bytes"},
		{"bad checksum", func() []byte { d := bytes.Clone(good); d[100] ^= 1; return d }(), "not a tar header"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			devs := []io.ReaderAt{bytes.NewReader(tt.data)}
			if len(tt.data)%512 == 0 {
				devs = append(devs, newDevice(tt.data, 512))
			}
			for _, dev := range devs {
				f, err := Open(dev, int64(len(tt.data)))
				var fe *FormatError
				switch {
				case tt.err == "" && err != nil:
					t.Errorf("Open: %v", err)
				case tt.err != "" && (!errors.As(err, &fe) || !strings.Contains(err.Error(), tt.err)):
					t.Errorf("Open = %v, %v; want a *FormatError with %q", f, err, tt.err)
				}
			}
		})
	}

	t.Run("index-budget", func(t *testing.T) {
		var ents []ent
		for i := range 100 {
			ents = append(ents, regular(fmt.Sprintf("f%03d", i), ""))
		}
		data := archive(t, tar.FormatUSTAR, ents...)
		defer func(b int64) { indexBudget = b }(indexBudget)
		indexBudget = 50 * (entryOverhead + 4)
		if _, err := Open(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "too many entries") {
			t.Errorf("Open of 100 entries with room for 50: %v", err)
		}
		// The directories a name implies count too.
		deep := archive(t, tar.FormatPAX, regular(strings.Repeat("d/", 100)+"f", "x"))
		if _, err := Open(bytes.NewReader(deep), int64(len(deep))); err == nil || !strings.Contains(err.Error(), "too many entries") {
			t.Errorf("Open of a file 100 directories deep with room for 50 entries: %v", err)
		}
	})

	t.Run("device-shorter-than-said", func(t *testing.T) {
		data := archive(t, tar.FormatUSTAR, regular("a", "x"))
		_, err := Open(bytes.NewReader(data[:512]), int64(len(data)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Open: %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

// Archives that are empty, zeros, or followed by anything are fine.
func TestEmptyAndTrailing(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		files int
	}{
		{"no bytes", nil, 0},
		{"zeros", make([]byte, 1<<20), 0},
		{"end-of-archive only", archive(t, tar.FormatUSTAR), 0},
		{"garbage after the end", append(archive(t, tar.FormatUSTAR, regular("a", "x")), bytes.Repeat([]byte{0xff}, 4096)...), 1},
	}
	for _, tt := range tests {
		f, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
		if err != nil || f.Files() != tt.files {
			t.Errorf("%s: Open: %v, %d files; want %d", tt.name, err, f.Files(), tt.files)
			continue
		}
		if es, err := f.ReadDir("."); err != nil || len(es) != tt.files {
			t.Errorf("%s: ReadDir: %d entries, %v", tt.name, len(es), err)
		}
	}
}

// Every read of any offset and length comes out right, with the device read
// in whole sectors only.
func TestAlignedReads(t *testing.T) {
	odd := randomBytes(3*4096+700, 3)
	for _, tt := range []struct {
		name string
		dev  io.ReaderAt
		data []byte
	}{
		{"512-byte sectors", newDevice(odd, 512), newDevice(odd, 512).data},
		{"4096-byte sectors", newDevice(odd, 4096), newDevice(odd, 4096).data},
		// Not whole sectors: the last one is read short.
		{"bytes.Reader", bytes.NewReader(odd), odd},
	} {
		data := tt.data
		a, err := newAligned(tt.dev, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(5, uint64(len(data))))
		for range 2000 {
			off := r.Int64N(int64(len(data)) + 100)
			n := r.IntN(9000)
			p := make([]byte, n)
			got, err := a.ReadAt(p, off)
			wantN := max(0, min(int64(n), int64(len(data))-off))
			if int64(got) != wantN || !bytes.Equal(p[:got], data[min(off, int64(len(data))):][:got]) {
				t.Fatalf("%s: ReadAt(%d bytes at %d) = %d, %v; want %d bytes", tt.name, n, off, got, err, wantN)
			}
			if (int64(n) > wantN) != (err == io.EOF) || err != nil && err != io.EOF {
				t.Fatalf("%s: ReadAt(%d bytes at %d) = %d, %v", tt.name, n, off, got, err)
			}
		}
	}
}

// Reading a file with small reads costs few requests of the device.
func TestReadAhead(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB
	dev := newDevice(archive(t, tar.FormatUSTAR, regular("a", "1"), regular("b", "2"), regular("big", body)), 512)
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	if dev.reads > 3 {
		t.Errorf("Open made %d requests of the device for 3 headers", dev.reads)
	}
	dev.reads = 0
	fl, err := f.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 100)
	for {
		n, err := fl.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != body {
		t.Errorf("read %d bytes, not the file's %d", got.Len(), len(body))
	}
	if want := len(body)/readAhead + 1; dev.reads > want {
		t.Errorf("reading 128 KiB 100 bytes at a time made %d requests of the device, want at most %d", dev.reads, want)
	}
}

// The archive tar(1) makes of a directory is the directory.
func TestTarCommand(t *testing.T) {
	tarCmd := testenv.MustHaveCommand(t, "tar")
	src := t.TempDir()
	files := map[string]string{
		"site.crt":           "-----BEGIN CERTIFICATE-----\n",
		"site.key":           "-----BEGIN PRIVATE KEY-----\n",
		"zones/example.zone": "$ORIGIN example.\n",
		"live/site/cert.pem": "",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if name == "live/site/cert.pem" {
			// As certbot keeps its certificates: a link to the real file.
			if err := os.Symlink("../../site.crt", p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archivePath := filepath.Join(t.TempDir(), "files.tar")
	cmd := exec.Command(tarCmd, "cf", archivePath, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar cf: %v\n%s", err, out)
	}
	data, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(data)%512 != 0 {
		t.Fatalf("tar made %d bytes, not whole sectors", len(data))
	}
	dev := newDevice(data, 512)
	f, err := Open(dev, dev.Size())
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if name == "live/site/cert.pem" {
			body = files["site.crt"]
		}
		if b, err := f.ReadFile(name); string(b) != body || err != nil {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, b, err, body)
		}
	}
	if err := fstest.TestFS(f, "site.crt", "site.key", "zones/example.zone", "live/site/cert.pem"); err != nil {
		t.Error(err)
	}
}
