package certstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/acme/autocert"
)

var errCrash = errors.New("simulated crash")

// testDev checks every request as a block device does (whole sectors at
// sector offsets), counts flushes, and can "crash" part-way through a write:
// after budget more bytes, a write stops short and fails, as a power cut
// would leave it.
type testDev struct {
	*Mem
	sector  int
	budget  int // bytes that may still be written; -1: no limit
	flushes int
}

func newDev(size, sector int) *testDev {
	return &testDev{Mem: NewMem(size), sector: sector, budget: -1}
}

// reopen is the device after a restart: the same bytes, no fault.
func (d *testDev) reopen() *testDev {
	return &testDev{Mem: &Mem{data: d.Bytes()}, sector: d.sector, budget: -1}
}

func (d *testDev) SectorSize() int { return d.sector }
func (d *testDev) Flush() error    { d.flushes++; return nil }

func (d *testDev) aligned(p []byte, off int64) error {
	if off%int64(d.sector) != 0 || len(p)%d.sector != 0 {
		return fmt.Errorf("misaligned request: %d bytes at %d", len(p), off)
	}
	return nil
}

func (d *testDev) ReadAt(p []byte, off int64) (int, error) {
	if err := d.aligned(p, off); err != nil {
		return 0, err
	}
	return d.Mem.ReadAt(p, off)
}

func (d *testDev) WriteAt(p []byte, off int64) (int, error) {
	if err := d.aligned(p, off); err != nil {
		return 0, err
	}
	if d.budget >= 0 && len(p) > d.budget {
		n, _ := d.Mem.WriteAt(p[:d.budget], off)
		d.budget = 0
		return n, errCrash
	}
	if d.budget >= 0 {
		d.budget -= len(p)
	}
	return d.Mem.WriteAt(p, off)
}

// logBuf collects a store's log.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func open(t *testing.T, dev Device) (*Store, *logBuf) {
	t.Helper()
	var log logBuf
	s, err := Open(dev, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, &log
}

var ctx = context.Background()

func put(t *testing.T, s *Store, key, val string) {
	t.Helper()
	if err := s.Put(ctx, key, []byte(val)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// contents returns every key and value of s.
func contents(t *testing.T, s *Store) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, k := range s.Keys() {
		v, err := s.Get(ctx, k)
		if err != nil {
			t.Fatalf("Get(%q) of a listed key: %v", k, err)
		}
		m[k] = string(v)
	}
	return m
}

func wantContents(t *testing.T, s *Store, want map[string]string) {
	t.Helper()
	got := contents(t, s)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("store holds %v, want %v", got, want)
	}
}

func TestOperations(t *testing.T) {
	type op struct {
		do       string // put, delete, reopen
		key, val string
	}
	tests := []struct {
		name string
		ops  []op
		want map[string]string
	}{
		{"empty", nil, map[string]string{}},
		{"put", []op{{"put", "a", "1"}}, map[string]string{"a": "1"}},
		{"overwrite", []op{{"put", "a", "1"}, {"put", "a", "2"}}, map[string]string{"a": "2"}},
		{"delete", []op{{"put", "a", "1"}, {"put", "b", "2"}, {"delete", "a", ""}}, map[string]string{"b": "2"}},
		{"delete missing", []op{{"delete", "a", ""}}, map[string]string{}},
		{"put after delete", []op{{"put", "a", "1"}, {"delete", "a", ""}, {"put", "a", "3"}}, map[string]string{"a": "3"}},
		{"empty value", []op{{"put", "a", ""}}, map[string]string{"a": ""}},
		{"survives reopen", []op{{"put", "a", "1"}, {"put", "b", "2"}, {"reopen", "", ""}, {"put", "a", "3"}, {"reopen", "", ""}},
			map[string]string{"a": "3", "b": "2"}},
		{"delete survives reopen", []op{{"put", "a", "1"}, {"delete", "a", ""}, {"reopen", "", ""}}, map[string]string{}},
		{"large value spans sectors", []op{{"put", "k", strings.Repeat("x", 5000)}, {"reopen", "", ""}},
			map[string]string{"k": strings.Repeat("x", 5000)}},
	}
	for _, sector := range []int{512, 4096} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", tt.name, sector), func(t *testing.T) {
				dev := newDev(256<<10, sector)
				s, _ := open(t, dev)
				for _, o := range tt.ops {
					switch o.do {
					case "put":
						put(t, s, o.key, o.val)
					case "delete":
						if err := s.Delete(ctx, o.key); err != nil {
							t.Fatal(err)
						}
					case "reopen":
						dev = dev.reopen()
						s, _ = open(t, dev)
					}
				}
				wantContents(t, s, tt.want)
				s, _ = open(t, dev.reopen())
				wantContents(t, s, tt.want)
			})
		}
	}
}

func TestMissIsErrCacheMiss(t *testing.T) {
	s, _ := open(t, newDev(64<<10, 512))
	if _, err := s.Get(ctx, "nope"); err != autocert.ErrCacheMiss {
		t.Errorf("Get of a missing key: %v, want autocert.ErrCacheMiss itself", err)
	}
	put(t, s, "k", "v")
	s.Delete(ctx, "k")
	if _, err := s.Get(ctx, "k"); err != autocert.ErrCacheMiss {
		t.Errorf("Get of a deleted key: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cancelled, "k", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
	for _, key := range []string{"", strings.Repeat("k", MaxKeyLen+1)} {
		if err := s.Put(ctx, key, nil); err == nil {
			t.Errorf("Put with a %d-byte key succeeded", len(key))
		}
	}
}

func TestWritesAreFlushed(t *testing.T) {
	dev := newDev(64<<10, 512)
	s, _ := open(t, dev)
	before := dev.flushes
	put(t, s, "k", "v")
	if dev.flushes == before {
		t.Error("Put returned without flushing the device")
	}
}

func TestFull(t *testing.T) {
	dev := newDev(8<<10, 512) // halves of 4 KiB: 7 sectors of records
	s, _ := open(t, dev)
	want := map[string]string{}
	var err error
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("k%d", i)
		if err = s.Put(ctx, key, []byte(strings.Repeat("v", 300))); err != nil {
			break
		}
		want[key] = strings.Repeat("v", 300)
	}
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "half the device holds") {
		t.Fatalf("filling the store: %v, want ErrFull saying why", err)
	}
	if len(want) != 7 {
		t.Errorf("%d values fit in 7 sectors, want 7", len(want))
	}
	wantContents(t, s, want)
	s, _ = open(t, dev.reopen())
	wantContents(t, s, want)
	// Replacing and deleting still work on a full store.
	put(t, s, "k0", "small")
	want["k0"] = "small"
	if err := s.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	delete(want, "k1")
	wantContents(t, s, want)
	if err := s.Put(ctx, "big", make([]byte, 1<<20)); !errors.Is(err, ErrFull) {
		t.Errorf("a value larger than the device: %v", err)
	}
}

func TestManyOverwritesCompact(t *testing.T) {
	dev := newDev(8<<10, 512)
	s, log := open(t, dev)
	put(t, s, "account", "key")
	for i := 0; i < 200; i++ {
		put(t, s, "cert", fmt.Sprint(i))
	}
	want := map[string]string{"account": "key", "cert": "199"}
	wantContents(t, s, want)
	s, _ = open(t, dev.reopen())
	wantContents(t, s, want)
	if !strings.Contains(log.String(), "compacted") {
		t.Error("200 writes to 7 sectors did not compact")
	}
}

func TestGeometry(t *testing.T) {
	if _, err := Open(NewMem(2048), Options{}); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("a 2 KiB device: %v", err)
	}
	if _, err := Open(newDev(64<<10, 1000), Options{}); err == nil {
		t.Error("1000-byte sectors accepted")
	}
	// A device formatted with 512-byte sectors that now says 4096.
	dev := newDev(64<<10, 512)
	open(t, dev)
	dev.sector = 4096
	if _, err := Open(dev, Options{}); err == nil || !strings.Contains(err.Error(), "512-byte sectors") {
		t.Errorf("a sector size change: %v", err)
	}
}

// A device that holds something else is left alone.
func TestForeignDeviceRefused(t *testing.T) {
	dev := newDev(64<<10, 512)
	copy(dev.data[100:], "a file system, or someone's data")
	before := dev.Bytes()
	if _, err := Open(dev, Options{Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), "not a certificate store") {
		t.Errorf("Open of a device with other data: %v", err)
	}
	if !bytes.Equal(dev.Bytes(), before) {
		t.Error("Open wrote to a device that is not a store")
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store")
	f, err := OpenFile(path, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := open(t, f)
	put(t, s, "acme_account+key", "PEM")
	f.Close()
	f, err = OpenFile(path, 1<<20) // an existing file keeps its size
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != 64<<10 {
		t.Errorf("reopened file has size %d", f.Size())
	}
	s, _ = open(t, f)
	wantContents(t, s, map[string]string{"acme_account+key": "PEM"})
}

func TestConcurrentUse(t *testing.T) {
	dev := newDev(32<<10, 512)
	s, _ := open(t, dev)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("g%d", g)
				if err := s.Put(ctx, key, []byte(fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Get(ctx, key); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s, _ = open(t, dev.reopen())
	wantContents(t, s, map[string]string{"g0": "49", "g1": "49", "g2": "49", "g3": "49"})
}
