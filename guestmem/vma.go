package guestmem

import "sort"

// Prot is a mapping's protection, as in mmap(2).
type Prot uint8

// Protection bits, with the values of PROT_READ, PROT_WRITE, PROT_EXEC.
const (
	ProtNone  Prot = 0
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
)

func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// VMA is one mapped area [Start, End) of the guest's address space.
type VMA struct {
	Start, End uint64
	Prot       Prot
	// Locked areas belong to the monitor (syscall stub, vDSO): the guest
	// can neither unmap nor change them.
	Locked bool
	Name   string
}

// vmaSet keeps VMAs sorted by address and disjoint. A Go program has a few
// hundred at most, so a sorted slice beats a tree.
type vmaSet struct{ list []VMA }

// span returns the indexes [i, j) of the VMAs overlapping [start, end).
func (s *vmaSet) span(start, end uint64) (int, int) {
	i := sort.Search(len(s.list), func(k int) bool { return s.list[k].End > start })
	j := i
	for j < len(s.list) && s.list[j].Start < end {
		j++
	}
	return i, j
}

// find returns the VMA containing va.
func (s *vmaSet) find(va uint64) (VMA, bool) {
	i, j := s.span(va, va+1)
	if i == j {
		return VMA{}, false
	}
	return s.list[i], true
}

func (s *vmaSet) isFree(start, end uint64) bool {
	i, j := s.span(start, end)
	return i == j
}

// covered reports whether [start, end) is mapped without holes.
func (s *vmaSet) covered(start, end uint64) bool {
	i, j := s.span(start, end)
	next := start
	for _, v := range s.list[i:j] {
		if v.Start > next {
			return false
		}
		next = v.End
	}
	return next >= end
}

// remove cuts [start, end) out of the set, splitting VMAs at its edges.
func (s *vmaSet) remove(start, end uint64) {
	i, j := s.span(start, end)
	var keep []VMA
	for _, v := range s.list[i:j] {
		if v.Start < start {
			head := v
			head.End = start
			keep = append(keep, head)
		}
		if v.End > end {
			tail := v
			tail.Start = end
			keep = append(keep, tail)
		}
	}
	s.list = append(s.list[:i], append(keep, s.list[j:]...)...)
}

// insert adds v, which must not overlap, merging it with equal neighbours.
func (s *vmaSet) insert(v VMA) {
	i := sort.Search(len(s.list), func(k int) bool { return s.list[k].Start >= v.End })
	s.list = append(s.list, VMA{})
	copy(s.list[i+1:], s.list[i:])
	s.list[i] = v
	if i+1 < len(s.list) && mergeable(s.list[i], s.list[i+1]) {
		s.list[i].End = s.list[i+1].End
		s.list = append(s.list[:i+1], s.list[i+2:]...)
	}
	if i > 0 && mergeable(s.list[i-1], s.list[i]) {
		s.list[i-1].End = s.list[i].End
		s.list = append(s.list[:i], s.list[i+1:]...)
	}
}

func mergeable(a, b VMA) bool {
	return a.End == b.Start && a.Prot == b.Prot && !a.Locked && !b.Locked && a.Name == b.Name
}

// gapBelow finds the highest free range of length bytes that ends at or
// below top and starts at or above floor.
func (s *vmaSet) gapBelow(top, floor, length uint64) (uint64, bool) {
	end := top
	for k := len(s.list) - 1; k >= -1; k-- {
		lo := floor
		if k >= 0 {
			v := s.list[k]
			if v.Start >= end {
				continue
			}
			lo = max(v.End, floor)
		}
		if end >= lo+length {
			return end - length, true
		}
		if k >= 0 {
			end = min(end, s.list[k].Start)
		}
		if end < floor+length {
			return 0, false
		}
	}
	return 0, false
}
