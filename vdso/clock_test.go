package vdso

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestNewClock(t *testing.T) {
	for _, tc := range []struct {
		khz       uint64
		wantShift uint32
	}{
		{1, 12},           // 1 ms per tick
		{1_000_000, 31},   // 1 GHz: 1 ns per tick, Mult 2^31
		{2_445_404, 33},   // this machine
		{3_000_000, 33},   // 3 GHz
		{5_000_000, 34},   // 5 GHz
		{100_000_000, 38}, // 100 GHz
	} {
		c := NewClock(tc.khz, 1000, 2000, 5000)
		if c.TSCBase != 1000 || c.MonoBase != 2000 || c.RealOffset != 3000 {
			t.Errorf("%d kHz: bases %+v", tc.khz, c)
		}
		if c.Shift != tc.wantShift || c.Mult < 1<<31 {
			t.Errorf("%d kHz: Mult %d Shift %d, want Shift %d and Mult >= 2^31", tc.khz, c.Mult, c.Shift, tc.wantShift)
		}
		// Mult/2^Shift is ns per tick to within rounding (half a unit of Mult).
		exact := new(big.Rat).SetFrac(big.NewInt(1_000_000), new(big.Int).SetUint64(tc.khz))
		got := new(big.Rat).SetFrac(big.NewInt(int64(c.Mult)), new(big.Int).Lsh(big.NewInt(1), uint(c.Shift)))
		diff := new(big.Rat).Sub(got, exact)
		half := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), uint(c.Shift)+1))
		if diff.Abs(diff).Cmp(half) > 0 {
			t.Errorf("%d kHz: Mult/2^Shift = %s, want %s", tc.khz, got.FloatString(12), exact.FloatString(12))
		}
		// One day of ticks is one day of nanoseconds, give or take 40 µs.
		day := int64(86400e9)
		if ns := c.Monotonic(1000+tc.khz*86400e3) - 2000; math.Abs(float64(ns-day)) > 40e3 {
			t.Errorf("%d kHz: a day of ticks = %d ns", tc.khz, ns)
		}
	}
	if c := NewClock(0, 1, 2, 3); c.Mult != 0 {
		t.Errorf("NewClock(0, ...) = %+v, want an unset clock (Mult 0)", c)
	}
}

// TestMonotonicModel checks Clock.Monotonic against exact big-integer
// arithmetic.
func TestMonotonicModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		c := Clock{TSCBase: r.Uint64(), MonoBase: r.Int64N(1 << 62), Mult: r.Uint32(), Shift: r.Uint32N(64), RealOffset: r.Int64N(1<<62) - 1<<61}
		tsc := r.Uint64()
		delta := new(big.Int)
		if tsc > c.TSCBase {
			delta.SetUint64(tsc - c.TSCBase)
		}
		ns := delta.Mul(delta, big.NewInt(int64(c.Mult)))
		ns.Rsh(ns, uint(c.Shift))
		ns.And(ns, new(big.Int).SetUint64(math.MaxUint64)) // the guest keeps the low 64 bits
		want := c.MonoBase + int64(ns.Uint64())
		if got := c.Monotonic(tsc); got != want {
			t.Fatalf("%+v at %d: %d, want %d", c, tsc, got, want)
		}
		if got := c.Realtime(tsc); got != want+c.RealOffset {
			t.Fatalf("%+v at %d: realtime %d, want %d", c, tsc, got, want+c.RealOffset)
		}
	}
}

func TestStoreLayout(t *testing.T) {
	page := make([]byte, DataSize)
	c := Clock{TSCBase: 0x1122334455667788, MonoBase: -2, Mult: 0xdeadbeef, Shift: 31, RealOffset: 1 << 60}
	Store(page, c)
	Store(page, c)
	le := binary.LittleEndian
	if seq := le.Uint32(page[offSeq:]); seq != 4 {
		t.Errorf("seq %d after two stores, want 4", seq)
	}
	got := Clock{
		TSCBase:    le.Uint64(page[offTSCBase:]),
		MonoBase:   int64(le.Uint64(page[offMonoBase:])),
		Mult:       le.Uint32(page[offMult:]),
		Shift:      le.Uint32(page[offShift:]),
		RealOffset: int64(le.Uint64(page[offRealOffset:])),
	}
	if got != c {
		t.Errorf("page holds %+v, want %+v", got, c)
	}
	for i, b := range page[dataUsed:] {
		if b != 0 {
			t.Fatalf("byte %#x beyond the fields is %#x", dataUsed+i, b)
		}
	}
	for _, bad := range [][]byte{page[:DataSize-1], make([]byte, DataSize+8)[1 : DataSize+1]} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Store on a %d-byte page at %p did not panic", len(bad), &bad[0])
				}
			}()
			Store(bad, c)
		}()
	}
}
