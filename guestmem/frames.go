package guestmem

// extent is a run of free frames.
type extent struct{ first, count uint64 }

// frameAllocator hands out guest-physical frame numbers. Allocation takes
// ascending frames from the most recent extent, so that what one mmap binds
// is mostly contiguous and can be discarded with few madvise calls.
type frameAllocator struct {
	free  []extent
	total uint64
	used  uint64
}

func newFrameAllocator(first, count uint64) frameAllocator {
	return frameAllocator{free: []extent{{first, count}}, total: count}
}

func (f *frameAllocator) available() uint64 { return f.total - f.used }

func (f *frameAllocator) alloc() (uint64, bool) {
	n := len(f.free)
	if n == 0 {
		return 0, false
	}
	e := &f.free[n-1]
	fr := e.first
	e.first++
	e.count--
	if e.count == 0 {
		f.free = f.free[:n-1]
	}
	f.used++
	return fr, true
}

func (f *frameAllocator) release(fr uint64) {
	f.used--
	if n := len(f.free); n > 0 {
		e := &f.free[n-1]
		switch {
		case e.first+e.count == fr:
			e.count++
			return
		case fr+1 == e.first:
			e.first--
			e.count++
			return
		}
	}
	f.free = append(f.free, extent{fr, 1})
}
