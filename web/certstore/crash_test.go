package certstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A crash in the middle of any write loses at most the value being written.
func TestTornWrite(t *testing.T) {
	long := strings.Repeat("new value ", 200) // 4 sectors
	// 2032 stops one byte short of the record's end (it is 2033 bytes,
	// padded to 2048): a write that stops in the padding has landed.
	for _, budget := range []int{0, 1, 31, 32, 100, 511, 512, 513, 1024, 2032} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dev := newDev(64<<10, 512)
			s, _ := open(t, dev)
			put(t, s, "a", "old")
			put(t, s, "b", "kept")
			dev.budget = budget
			if err := s.Put(ctx, "a", []byte(long)); !errors.Is(err, errCrash) {
				t.Fatalf("Put through a crashing device: %v", err)
			}
			after := dev.reopen()
			s, _ = open(t, after)
			wantContents(t, s, map[string]string{"a": "old", "b": "kept"})
			// The log goes on over the torn record.
			put(t, s, "c", "3")
			s, _ = open(t, after.reopen())
			wantContents(t, s, map[string]string{"a": "old", "b": "kept", "c": "3"})
		})
	}
}

// A crash during a compaction leaves the old half in charge; a compaction
// cut short never comes back, even when its generation is reused. A write
// that failed but landed (2660: the header is whole, the error came after)
// is found on the device, and the store goes on from there.
func TestTornCompaction(t *testing.T) {
	const size = 16 << 10 // halves of 8 KiB: 15 sectors of records
	// The compaction writes 5 records of one sector, then the header:
	// 2580 tears the header before its checksum.
	for _, tt := range []struct {
		budget int
		landed bool
	}{{0, false}, {512, false}, {1024, false}, {2560, false}, {2580, false}, {2660, true}} {
		t.Run(fmt.Sprint(tt.budget), func(t *testing.T) {
			dev := newDev(size, 512)
			s, _ := open(t, dev)
			put(t, s, "x", "1")
			put(t, s, "y", "2")
			put(t, s, "z", "3")
			for i := 0; s.head+512 <= s.half-s.sector; i++ {
				put(t, s, "filler", fmt.Sprint(i))
			}
			want := contents(t, s)
			dev.budget = tt.budget
			if err := s.Put(ctx, "w", []byte("4")); !errors.Is(err, errCrash) {
				t.Fatalf("Put that compacts through a crashing device: %v", err)
			}
			if tt.landed {
				want["w"] = "4"
			}
			// The same store goes on, in step with the device...
			dev.budget = -1
			put(t, s, "after", "5")
			want["after"] = "5"
			wantContents(t, s, want)
			// ... and a restart finds the same.
			dev = dev.reopen()
			s, _ = open(t, dev)
			wantContents(t, s, want)

			// z is deleted; the next compaction must not revive the copy
			// of z the cut-short one left.
			if err := s.Delete(ctx, "z"); err != nil {
				t.Fatal(err)
			}
			delete(want, "z")
			for i := 0; i < 40; i++ {
				put(t, s, "filler", fmt.Sprint(i))
			}
			want["filler"] = "39"
			wantContents(t, s, want)
			s, _ = open(t, dev.reopen())
			wantContents(t, s, want)
		})
	}
}

func TestDamagedRecordIsSkipped(t *testing.T) {
	dev := newDev(64<<10, 512)
	s, _ := open(t, dev)
	put(t, s, "a", "1") // sector 1
	put(t, s, "b", "2") // sector 2
	put(t, s, "c", "3") // sector 3
	b := dev.Bytes()
	b[2*512+33] ^= 0xff // b's value
	dev = &testDev{Mem: &Mem{data: b}, sector: 512, budget: -1}
	s, log := open(t, dev)
	wantContents(t, s, map[string]string{"a": "1", "c": "3"})
	if !strings.Contains(log.String(), "damaged record") || !strings.Contains(log.String(), "offset=1024") {
		t.Errorf("the damaged record was not logged: %q", log.String())
	}
	// New records go after c, not over it.
	put(t, s, "d", "4")
	s, _ = open(t, dev.reopen())
	wantContents(t, s, map[string]string{"a": "1", "c": "3", "d": "4"})
}

func TestDamagedHeader(t *testing.T) {
	dev := newDev(64<<10, 512)
	s, _ := open(t, dev)
	put(t, s, "a", "1")
	b := dev.Bytes()
	b[20] ^= 1 // half 0's header
	s, log := open(t, &testDev{Mem: &Mem{data: b}, sector: 512, budget: -1})
	if !strings.Contains(log.String(), "damaged header") {
		t.Errorf("the damaged header was not logged: %q", log.String())
	}
	wantContents(t, s, map[string]string{}) // the device is formatted anew, and works
	put(t, s, "b", "2")
}

// Whatever a device holds, Open does not panic, and a store it opens works.
func FuzzOpen(f *testing.F) {
	dev := newDev(8<<10, 512)
	s, _ := Open(dev, Options{Logger: slog.New(slog.DiscardHandler)})
	s.Put(ctx, "a", []byte("1"))
	s.Put(ctx, "b", []byte("2"))
	f.Add(dev.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := make([]byte, 8<<10)
		copy(b, data)
		dev := &testDev{Mem: &Mem{data: b}, sector: 512, budget: -1}
		s, err := Open(dev, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return
		}
		if err := s.Put(ctx, "fuzz", []byte("value")); err != nil {
			if errors.Is(err, ErrFull) {
				return
			}
			t.Fatal(err)
		}
		s, err = Open(dev.reopen(), Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s.Get(ctx, "fuzz"); err != nil || string(v) != "value" {
			t.Fatalf("after reopen: %q, %v", v, err)
		}
	})
}
