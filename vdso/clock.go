package vdso

import "math/bits"

// Layout of the data page. The guest code reads these fields with plain
// loads inside a seqlock; Store writes them. All fields are naturally
// aligned so that each load and store is single-copy atomic.
const (
	offSeq        = 0x00 // uint32: odd while the monitor is writing
	offTSCBase    = 0x08 // uint64: Clock.TSCBase
	offMonoBase   = 0x10 // int64:  Clock.MonoBase
	offMult       = 0x18 // uint32: Clock.Mult; 0 means "not set, use syscalls"
	offShift      = 0x1c // uint32: Clock.Shift
	offRealOffset = 0x20 // int64:  Clock.RealOffset
	dataUsed      = 0x28 // bytes of the page in use; the rest stays zero
)

// Clock is the linear map from the guest's TSC to nanoseconds.
//
// The guest computes
//
//	mono = MonoBase + ((tsc-TSCBase)*Mult) >> Shift   (128-bit product)
//	real = mono + RealOffset
//
// and clamps tsc-TSCBase to 0 if the TSC reads behind TSCBase (e.g. a
// vCPU whose TSC lags slightly), so time never runs backwards at a rebase.
// Mult == 0 marks the clock unset: the guest then makes real system calls.
type Clock struct {
	TSCBase    uint64 // TSC value at MonoBase
	MonoBase   int64  // CLOCK_MONOTONIC in ns at TSCBase
	Mult       uint32 // ns = MonoBase + ((tsc-TSCBase)*Mult) >> Shift  (128-bit product)
	Shift      uint32
	RealOffset int64 // CLOCK_REALTIME = CLOCK_MONOTONIC + RealOffset
}

// NewClock returns the Clock for a TSC ticking at tscKHz that reads tscNow
// when CLOCK_MONOTONIC is monoNow and CLOCK_REALTIME is realNow.
//
// Mult/Shift are chosen with the largest Shift whose rounded Mult still fits
// in 32 bits, so Mult >= 2^31 and the rounding error is below 2^-31 of
// the rate (< 40 µs/day; the kHz granularity of tscKHz is usually the larger
// error). The product is 128 bits wide in the guest, so no uptime overflows
// it; the result fits in int64 for 292 years.
//
// A tscKHz of 0 yields an unset clock (Mult 0): the guest uses syscalls.
//
// To move an existing clock (new frequency, NTP step) without making
// CLOCK_MONOTONIC jump, pass old.Monotonic(tscNow) as monoNow.
func NewClock(tscKHz uint64, tscNow uint64, monoNow, realNow int64) Clock {
	c := Clock{TSCBase: tscNow, MonoBase: monoNow, RealOffset: realNow - monoNow}
	if tscKHz == 0 {
		return c
	}
	// ns per tick = 1e6 / tscKHz; Mult = round(1e6 << Shift / tscKHz).
	for s := uint32(63); ; s-- {
		hi, lo := bits.Mul64(1_000_000, 1<<s)
		if hi >= tscKHz {
			continue // quotient needs more than 64 bits
		}
		q, r := bits.Div64(hi, lo, tscKHz)
		if r >= tscKHz-r {
			q++
		}
		if q < 1<<32 || s == 0 {
			c.Mult, c.Shift = uint32(q), s
			return c
		}
	}
}

// Monotonic returns CLOCK_MONOTONIC at the given TSC value exactly as the
// guest code computes it. The monitor should use it to answer emulated
// clock_gettime calls so that syscall and vDSO readings agree.
func (c Clock) Monotonic(tsc uint64) int64 {
	var delta uint64
	if tsc > c.TSCBase {
		delta = tsc - c.TSCBase
	}
	hi, lo := bits.Mul64(delta, uint64(c.Mult))
	s := c.Shift & 63 // shrd masks its count the same way
	return c.MonoBase + int64(lo>>s|hi<<(64-s))
}

// Realtime returns CLOCK_REALTIME at the given TSC value as the guest
// computes it.
func (c Clock) Realtime(tsc uint64) int64 {
	return c.Monotonic(tsc) + c.RealOffset
}
