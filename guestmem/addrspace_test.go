package guestmem

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

func newTestSpace(t *testing.T, size uint64) *AddressSpace {
	t.Helper()
	phys, err := NewPhysical(size, PageSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phys.Close() })
	as, err := NewAddressSpace(phys, 0x7f00_0000_0000)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestMmapPlacement(t *testing.T) {
	as := newTestSpace(t, 16<<20)
	tests := []struct {
		name  string
		addr  uint64
		size  uint64
		prot  Prot
		flags MmapFlags
		want  uint64
		err   error
	}{
		{"hint honoured", 0xc000000000, 1 << 20, ProtNone, 0, 0xc000000000, nil},
		{"hint taken, placed below top", 0xc000000000, PageSize, ProtRead | ProtWrite, 0, 0x7f00_0000_0000 - PageSize, nil},
		{"no hint", 0, 2 * PageSize, ProtRead, 0, 0x7f00_0000_0000 - 3*PageSize, nil},
		{"fixed replaces", 0xc000000000, PageSize, ProtRead | ProtWrite, Fixed, 0xc000000000, nil},
		{"noreplace refuses", 0xc000001000, PageSize, ProtRead, NoReplace, 0, unix.EEXIST},
		{"exec refused", 0, PageSize, ProtRead | ProtExec, 0, 0, unix.EACCES},
		{"fixed misaligned", 0xc000000010, PageSize, ProtRead, Fixed, 0, unix.EINVAL},
		{"fixed low", 0x1000, PageSize, ProtRead, Fixed, 0, unix.EPERM},
		{"zero length", 0, 0, ProtRead, 0, 0, unix.EINVAL},
	}
	for _, tt := range tests {
		got, err := as.Mmap(tt.addr, tt.size, tt.prot, tt.flags)
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("%s: Mmap = %#x, %v; want %#x, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	as := newTestSpace(t, 8<<20)
	before := as.Physical().Available()
	va, err := as.Mmap(0, 4<<20, ProtRead|ProtWrite, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.Mmap(0, 4<<20, ProtRead|ProtWrite, 0); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("second 4 MiB in 8 MiB: %v, want ENOMEM", err)
	}
	if err := as.Munmap(va, 4<<20); err != nil {
		t.Fatal(err)
	}
	// Page-table pages stay; data frames come back.
	if got := as.Physical().Available(); before-got > 8 {
		t.Errorf("after munmap %d frames available, before %d", got, before)
	}
	if _, err := as.Mmap(0, 4<<20, ProtRead|ProtWrite, 0); err != nil {
		t.Errorf("after munmap: %v", err)
	}
}

func TestCopyAndProtect(t *testing.T) {
	as := newTestSpace(t, 8<<20)
	va, err := as.Mmap(0, 2*PageSize, ProtRead|ProtWrite, 0)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("morgana!"), 1000) // crosses the page boundary
	if err := as.CopyOut(va+100, msg); err != nil {
		t.Fatal(err)
	}
	oldPTE := as.Translate(va)
	if err := as.Mprotect(va, 2*PageSize, ProtRead); err != nil {
		t.Fatal(err)
	}
	if as.Translate(va)&0x000f_ffff_ffff_f000 == oldPTE&0x000f_ffff_ffff_f000 {
		t.Error("downgrade kept the frame")
	}
	got := make([]byte, len(msg))
	if err := as.CopyIn(got, va+100); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("after mprotect: %v, equal %v", err, bytes.Equal(got, msg))
	}
	if err := as.CopyOut(va, []byte{1}); !errors.Is(err, unix.EFAULT) {
		t.Errorf("write to read-only: %v, want EFAULT", err)
	}
	if err := as.CopyIn(got[:1], 0x20000); !errors.Is(err, unix.EFAULT) {
		t.Errorf("read unmapped: %v, want EFAULT", err)
	}
	if err := as.Mprotect(va, PageSize, ProtRead|ProtExec); !errors.Is(err, unix.EACCES) {
		t.Errorf("mprotect exec: %v, want EACCES", err)
	}
	if err := as.Mprotect(va, PageSize, ProtRead|ProtWrite); err != nil {
		t.Fatal(err)
	}
	if err := as.DontNeed(va, 2*PageSize); err != nil {
		t.Fatal(err)
	}
	if pte := as.Translate(va); pte&1 != 0 {
		t.Errorf("after DONTNEED the page still has a frame: %#x", pte)
	}
	if ok, err := as.Fault(va+100, true, false); !ok || err != nil {
		t.Fatalf("Fault after DONTNEED = %v, %v", ok, err)
	}
	if ok, err := as.Fault(va+PageSize, false, false); !ok || err != nil {
		t.Fatalf("Fault of the read-only page after DONTNEED = %v, %v", ok, err)
	}
	if err := as.CopyIn(got, va+100); err != nil || !bytes.Equal(got, make([]byte, len(got))) {
		t.Errorf("after DONTNEED and a fault: %v, zero %v", err, bytes.Equal(got, make([]byte, len(got))))
	}
}

func TestVMASplitMerge(t *testing.T) {
	as := newTestSpace(t, 8<<20)
	base := uint64(0x10_0000_0000)
	if _, err := as.Mmap(base, 8*PageSize, ProtNone, Fixed); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Mmap(base+2*PageSize, 2*PageSize, ProtRead|ProtWrite, Fixed); err != nil {
		t.Fatal(err)
	}
	if n := len(as.VMAs()); n != 3 {
		t.Errorf("%d VMAs after split, want 3: %+v", n, as.VMAs())
	}
	if err := as.Munmap(base, 8*PageSize); err != nil {
		t.Fatal(err)
	}
	if n := len(as.VMAs()); n != 0 {
		t.Errorf("%d VMAs after munmap, want 0", n)
	}
}

func TestLazyMapping(t *testing.T) {
	as := newTestSpace(t, 8<<20)
	// Larger than memory, but untouched: fine.
	va, err := as.Mmap(0, 64<<20, ProtRead|ProtWrite, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		addr        uint64
		write, exec bool
		ok          bool
	}{
		{"read", va, false, false, true},
		{"bound already", va + PageSize, true, false, false},
		{"exec refused", va + 1<<20, false, true, false},
		{"outside", va + 64<<20, false, false, false},
	}
	for _, tt := range tests {
		ok, err := as.Fault(tt.addr, tt.write, tt.exec)
		if ok != tt.ok || err != nil {
			t.Errorf("%s: Fault = %v, %v; want %v", tt.name, ok, err, tt.ok)
		}
	}
	// Touch until memory runs out.
	var err2 error
	for p := va; p < va+64<<20 && err2 == nil; p += PageSize {
		_, err2 = as.Fault(p, true, false)
	}
	if !errors.Is(err2, unix.ENOMEM) {
		t.Errorf("touching 64 MiB in 8 MiB: %v, want ENOMEM", err2)
	}
}

// TestMapSegmentBSS maps a segment whose file bytes fill two pages and
// whose zero tail is much larger than the memory: only the file's pages
// get frames at once, the tail reads as zero and gets frames as touched.
func TestMapSegmentBSS(t *testing.T) {
	as := newTestSpace(t, 1<<20)
	const start, fileEnd, end = 0x400000, 0x402000, 0x400000 + 64<<20
	used := as.Physical().Used()
	if err := as.MapSegment(start, fileEnd, end, ProtRead|ProtWrite, "[image]"); err != nil {
		t.Fatalf("MapSegment with a 64 MiB tail in 1 MiB of memory: %v", err)
	}
	if got := as.Physical().Used() - used; got > 2*PageSize+4*PageSize { // the file's pages and their tables
		t.Errorf("MapSegment bound %d bytes, want the file's 2 pages and page tables", got)
	}
	for va, want := range map[uint64]bool{start: true, fileEnd - PageSize: true, fileEnd: false, end - PageSize: false} {
		if got := as.Translate(va)&x86.PTEPresent != 0; got != want {
			t.Errorf("page %#x has a frame: %v, want %v", va, got, want)
		}
	}
	if got := make([]byte, 8); as.CopyIn(got, end-PageSize) != nil || !bytes.Equal(got, make([]byte, 8)) {
		t.Errorf("the tail's last page does not read as zero: %v", got)
	}
	if ok, err := as.Fault(fileEnd+PageSize, true, false); !ok || err != nil {
		t.Errorf("Fault in the tail = %v, %v; want a frame", ok, err)
	}
	if err := as.CopyOut(fileEnd+PageSize, []byte{1}); err != nil {
		t.Errorf("write to the tail after the fault: %v", err)
	}

	tests := []struct {
		name                string
		start, fileEnd, end uint64
	}{
		{"file end past the end", 0x8000000, 0x8003000, 0x8002000},
		{"file end before the start", 0x8000000, 0x7fff000, 0x8002000},
		{"file end misaligned", 0x8000000, 0x8000010, 0x8002000},
	}
	for _, tt := range tests {
		if err := as.MapSegment(tt.start, tt.fileEnd, tt.end, ProtRead, "[image]"); !errors.Is(err, unix.EINVAL) {
			t.Errorf("%s: MapSegment = %v, want EINVAL", tt.name, err)
		}
	}
}
