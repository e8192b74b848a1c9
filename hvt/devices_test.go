package hvt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// attach gives the fake VM the device f at descriptor 3.
func attach(t *testing.T, vm *VM, f *os.File, info abi.Device) {
	t.Helper()
	info.FD = 3
	vm.cfg.Devices = []Device{{File: f, Info: info}}
	if err := vm.attachDevices(); err != nil {
		t.Fatal(err)
	}
}

// The rings of a network device, without KVM: the test plays the guest
// through guest memory, the peer of a socket pair plays the TAP.
func TestNetRings(t *testing.T) {
	r := newRingFixture(t, abi.Device{Kind: abi.NetDevice, Name: "service", MAC: "02:00:00:00:00:01", MTU: 1500})
	vm, th, host, va, word, setWord := r.vm, r.th, r.host, r.va, r.word, r.setWord

	rw := uint64(unix.PROT_READ | unix.PROT_WRITE)
	for _, bad := range [][]uint64{
		{0, abi.NetRingSize, rw, unix.MAP_PRIVATE, 3, 0},   // private
		{0, 4096, rw, unix.MAP_SHARED, 3, 0},               // wrong size
		{0, abi.NetRingSize, rw, unix.MAP_SHARED, 3, 4096}, // offset
	} {
		if got := call(th, sysMmap, bad...); got != -int64(unix.EINVAL) {
			t.Errorf("mmap %v = %d, want EINVAL", bad, got)
		}
	}
	if got := call(th, sysMmap, 0, abi.NetRingSize, rw, unix.MAP_SHARED, 3, 0); got != -int64(unix.EBUSY) {
		t.Errorf("second mmap = %d, want EBUSY", got)
	}
	if got := call(th, sysMunmap, va, abi.NetRingSize); got != -int64(unix.EINVAL) {
		t.Errorf("munmap of the rings = %d, want EINVAL (they are the device's)", got)
	}

	// Receive: frames from the host appear in rx, and a guest that asked
	// to be woken is (the descriptor's epoll generation moves).
	setWord(abi.NetRingRxWant, 1)
	_, gen0 := vm.files.fds[3].f.ready()
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 1514)}
	for _, f := range frames {
		unix.Write(host, f)
	}
	deadline := time.Now().Add(5 * time.Second)
	for word(abi.NetRingRxHead) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if h := word(abi.NetRingRxHead); h != 2 {
		t.Fatalf("rx head %d after two frames, want 2", h)
	}
	for i, f := range frames {
		slot := va + abi.NetRingRxOffset + uint64(i)*abi.NetRingSlotSize
		n := uint32(getU64(t, vm, slot))
		got := make([]byte, n)
		vm.as.CopyIn(got, slot+abi.NetRingFrameOffset)
		if !bytes.Equal(got, f) {
			t.Errorf("rx slot %d: %d bytes, want the %d-byte frame", i, n, len(f))
		}
	}
	if ev, gen := vm.files.fds[3].f.ready(); ev&unix.EPOLLIN == 0 || gen == gen0 || word(abi.NetRingRxWant) != 0 {
		t.Errorf("after rx: events %#x, generation %d (was %d), want-flag %d: the waiting guest was not woken", ev, gen, gen0, word(abi.NetRingRxWant))
	}
	setWord(abi.NetRingRxTail, 2)

	// Transmit: frames the guest puts in tx reach the host; a monitor
	// asleep (TxWant) is woken by the zero-length write.
	for word(abi.NetRingTxWant) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the transmitter spins briefly, then asks for kicks
	}
	out := [][]byte{bytes.Repeat([]byte{3}, 100), bytes.Repeat([]byte{4}, 14), make([]byte, 3000)} // the last is malformed
	for i, f := range out {
		slot := va + abi.NetRingTxOffset + uint64(i)*abi.NetRingSlotSize
		n := len(f)
		if n > 1518 { // more than the device's MTU allows
			vm.as.CopyOut(slot, binary.LittleEndian.AppendUint32(nil, uint32(n))) // a lying length
		} else {
			vm.as.CopyOut(slot, binary.LittleEndian.AppendUint32(nil, uint32(n)))
			vm.as.CopyOut(slot+abi.NetRingFrameOffset, f)
		}
	}
	setWord(abi.NetRingTxHead, 3)
	setWord(abi.NetRingTxWant, 0)
	if got := call(th, sysWrite, 3, 0, 0); got != 0 {
		t.Fatalf("kick = %d", got)
	}
	buf := make([]byte, 4096)
	for i, f := range out[:2] {
		unix.SetNonblock(host, false)
		tv := unix.Timeval{Sec: 5}
		unix.SetsockoptTimeval(host, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, err := unix.Read(host, buf)
		if err != nil || !bytes.Equal(buf[:n], f) {
			t.Errorf("tx frame %d: %d bytes, %v", i, n, err)
		}
	}
	for word(abi.NetRingTxTail) != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if tail := word(abi.NetRingTxTail); tail != 3 {
		t.Errorf("tx tail %d, want 3 (the malformed slot consumed and dropped)", tail)
	}
	if d := vm.nets[0].txDrops.Load(); d != 1 {
		t.Errorf("%d frames dropped, want 1 (the one with a bad length)", d)
	}
}

// A block device: sector-aligned requests inside the device reach the
// file, everything else is refused before it does.
func TestBlockDevice(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	path := filepath.Join(t.TempDir(), "disk")
	os.WriteFile(path, make([]byte, 8192), 0o644)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	t.Cleanup(func() { f.Close() })
	attach(t, vm, f, abi.Device{Kind: abi.BlockDevice, Name: "storage", Size: 8192, SectorSize: 512})
	buf := scratch(t, vm, 16384)
	vm.as.CopyOut(buf, bytes.Repeat([]byte{7}, 1024))
	tests := []struct {
		name string
		h    handler
		args []uint64
		want int64
	}{
		{"pwrite two sectors", sysPwrite64, []uint64{3, buf, 1024, 512}, 1024},
		{"pread them back", sysPread64, []uint64{3, buf + 4096, 1024, 512}, 1024},
		{"pread the last sector", sysPread64, []uint64{3, buf, 512, 7680}, 512},
		{"pread across the end", sysPread64, []uint64{3, buf, 1024, 7680}, -int64(unix.EINVAL)},
		{"pwrite past the end", sysPwrite64, []uint64{3, buf, 512, 8192}, -int64(unix.EINVAL)},
		{"pwrite misaligned offset", sysPwrite64, []uint64{3, buf, 512, 100}, -int64(unix.EINVAL)},
		{"pread misaligned length", sysPread64, []uint64{3, buf, 100, 0}, -int64(unix.EINVAL)},
		{"pread into unmapped memory", sysPread64, []uint64{3, 0x1000, 512, 0}, -int64(unix.EFAULT)},
		{"pread the console", sysPread64, []uint64{1, buf, 512, 0}, -int64(unix.EBADF)},
		{"fsync", sysFsync, []uint64{3}, 0},
		{"fsync the console", sysFsync, []uint64{1}, -int64(unix.EINVAL)},
		{"read(2) of a disk", sysRead, []uint64{3, buf, 512}, -int64(unix.EINVAL)},
	}
	for _, tt := range tests {
		if got := call(th, tt.h, tt.args...); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
		}
	}
	got := make([]byte, 1024)
	vm.as.CopyIn(got, buf+4096)
	if !bytes.Equal(got, bytes.Repeat([]byte{7}, 1024)) {
		t.Error("the sectors read back differ")
	}
	if disk, _ := os.ReadFile(path); len(disk) != 8192 || disk[512] != 7 || disk[1535] != 7 || disk[1536] != 0 {
		t.Errorf("the file holds the wrong bytes (%d long)", len(disk))
	}
}

// A disk image whose host file system is full: the guest sees ENOSPC, as
// in spt where it writes the file itself, not an anonymous EIO.
func TestBlockDeviceHostFull(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	f, err := os.OpenFile("/dev/full", os.O_RDWR, 0) // every write fails with ENOSPC
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { f.Close() })
	attach(t, vm, f, abi.Device{Kind: abi.BlockDevice, Name: "storage", Size: 8192, SectorSize: 512})
	buf := scratch(t, vm, 4096)
	if got := call(th, sysPwrite64, 3, buf, 1024, 512); got != -int64(unix.ENOSPC) {
		t.Errorf("pwrite to a full disk = %d, want %d (ENOSPC)", got, -int64(unix.ENOSPC))
	}
	if got := call(th, sysPread64, 3, buf, 1024, 512); got != 1024 {
		t.Errorf("pread from a full disk = %d, want 1024", got)
	}
}
