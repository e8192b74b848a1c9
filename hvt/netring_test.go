package hvt

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// ringFixture is a fake VM with a network device at descriptor 3 whose
// rings the test, playing the guest, has mapped; the peer of a socket
// pair plays the TAP.
type ringFixture struct {
	t    *testing.T
	vm   *VM
	th   *thread
	host int    // the TAP's other end
	va   uint64 // the rings in guest memory
}

func newRingFixture(t *testing.T, dev abi.Device) *ringFixture {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fds[1], true)
	host, tap := fds[0], os.NewFile(uintptr(fds[1]), "tap")
	t.Cleanup(func() { unix.Close(host); tap.Close() })
	for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
		unix.SetsockoptInt(host, unix.SOL_SOCKET, opt, 4<<20)
	}
	attach(t, vm, tap, dev)
	base := call(th, sysMmap, 0, abi.NetRingSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED, 3, 0)
	if base < 0 {
		t.Fatalf("mmap of the device = %d", base)
	}
	return &ringFixture{t: t, vm: vm, th: th, host: host, va: uint64(base)}
}

func (r *ringFixture) word(off int) uint32 {
	return uint32(getU64(r.t, r.vm, r.va+uint64(off)) & 0xffffffff)
}

func (r *ringFixture) setWord(off int, v uint32) {
	if err := r.vm.as.CopyOut(r.va+uint64(off), binary.LittleEndian.AppendUint32(nil, v)); err != nil {
		r.t.Fatal(err)
	}
}

// waitWord waits until the control word at off satisfies cond.
func (r *ringFixture) waitWord(off int, what string, cond func(uint32) bool) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(r.word(off)); time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("waiting for %s: the word is %d", what, r.word(off))
		}
	}
}

// copyRing copies between b and the ring at base, from byte off of its
// slots on, wrapping at their end.
func (r *ringFixture) copyRing(base, off int, b []byte, out bool) {
	const size = abi.NetRingSlots * abi.NetRingSlotSize
	for len(b) > 0 {
		off %= size
		k := min(len(b), size-off)
		at := r.va + uint64(base+off)
		if out {
			r.vm.as.CopyOut(at, b[:k])
		} else {
			r.vm.as.CopyIn(b[:k], at)
		}
		b, off = b[k:], off+k
	}
}

// receive reads the frame at slot tail of rx and returns it with the slot
// after it.
func (r *ringFixture) receive(tail uint32) ([]byte, uint32) {
	slot := int(tail%abi.NetRingSlots) * abi.NetRingSlotSize
	f := make([]byte, r.word(abi.NetRingRxOffset+slot))
	r.copyRing(abi.NetRingRxOffset, slot+abi.NetRingFrameOffset, f, false)
	return f, tail + abi.NetRingSlotsFor(len(f))
}

// kick is the guest's zero-length write.
func (r *ringFixture) kick() {
	if got := call(r.th, sysWrite, 3, 0, 0); got != 0 {
		r.t.Fatalf("kick = %d", got)
	}
}

func testFrame(i, n int) []byte {
	f := make([]byte, n)
	for j := range f {
		f[j] = byte(i + j/7)
	}
	return f
}

// vnetDevice is a device with virtio-net headers: frames up to 64 KiB.
var vnetDevice = abi.Device{Kind: abi.NetDevice, Name: "service", MAC: "02:00:00:00:00:01", MTU: 1500, Vnet: true}

// Frames of a device with virtio-net headers are up to 64 KiB: each spans
// slots, and the rings wrap in the middle of a frame. The test pushes
// enough through both rings to wrap each twice.
func TestNetRingsSpanning(t *testing.T) {
	r := newRingFixture(t, vnetDevice)
	sizes := []int{abi.NetVnetFrameMax, 60, 40000, 2044, 2045, 65000}

	// Receive: the guest consumes as frames arrive.
	var tail uint32
	for i := range 80 {
		want := testFrame(i, sizes[i%len(sizes)])
		if _, err := unix.Write(r.host, want); err != nil {
			t.Fatalf("host write of frame %d: %v", i, err)
		}
		r.waitWord(abi.NetRingRxHead, "a frame in rx", func(h uint32) bool { return h != tail })
		got, next := r.receive(tail)
		if !bytes.Equal(got, want) {
			t.Fatalf("rx frame %d at slot %d: %d bytes, want the %d-byte frame", i, tail%abi.NetRingSlots, len(got), len(want))
		}
		if h := r.word(abi.NetRingRxHead); h != next {
			t.Fatalf("rx frame %d: head %d, want %d", i, h, next)
		}
		tail = next
		r.setWord(abi.NetRingRxTail, tail)
	}

	// Transmit: the guest produces, the host reads each frame whole.
	var head uint32
	buf := make([]byte, abi.NetVnetFrameMax+1)
	unix.SetNonblock(r.host, false)
	tv := unix.Timeval{Sec: 5}
	unix.SetsockoptTimeval(r.host, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	for i := range 80 {
		want := testFrame(i, sizes[i%len(sizes)])
		slots := abi.NetRingSlotsFor(len(want))
		r.waitWord(abi.NetRingTxTail, "room in tx", func(tail uint32) bool { return head+slots-tail <= abi.NetRingSlots })
		slot := int(head%abi.NetRingSlots) * abi.NetRingSlotSize
		r.setWord(abi.NetRingTxOffset+slot, uint32(len(want)))
		r.copyRing(abi.NetRingTxOffset, slot+abi.NetRingFrameOffset, want, true)
		head += slots
		r.setWord(abi.NetRingTxHead, head)
		if r.word(abi.NetRingTxWant) != 0 {
			r.setWord(abi.NetRingTxWant, 0)
			r.kick()
		}
		n, err := unix.Read(r.host, buf)
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("tx frame %d: %d bytes (want %d), %v", i, n, len(want), err)
		}
	}
	if d := r.vm.nets[0].txDrops.Load(); d != 0 {
		t.Errorf("%d frames dropped", d)
	}
}

// A guest behind on rx: the monitor stops before the ring could overflow,
// asks for room (RxRoom) and goes on when the guest's kick says it has
// consumed; no frame is lost or torn.
func TestNetRingsRoom(t *testing.T) {
	r := newRingFixture(t, vnetDevice)
	const frames, size = 24, 60000 // 30 slots each: 17 fit in 512 with room for the largest
	for i := range frames {
		if _, err := unix.Write(r.host, testFrame(i, size)); err != nil {
			t.Fatalf("host write of frame %d: %v", i, err)
		}
	}
	r.waitWord(abi.NetRingRxRoom, "the monitor to ask for room", func(w uint32) bool { return w == 1 })
	head := r.word(abi.NetRingRxHead)
	if room := abi.NetRingSlots - head; head == 0 || room >= abi.NetRingSlotsFor(abi.NetVnetFrameMax) {
		t.Fatalf("the monitor waits with head at slot %d (%d slots free)", head, room)
	}
	var tail uint32
	for i := 0; i < frames; {
		for ; tail != r.word(abi.NetRingRxHead); i++ {
			var got []byte
			got, tail = r.receive(tail)
			if !bytes.Equal(got, testFrame(i, size)) {
				t.Fatalf("rx frame %d: %d bytes, not the frame sent", i, len(got))
			}
		}
		r.setWord(abi.NetRingRxTail, tail)
		if r.word(abi.NetRingRxRoom) != 0 {
			r.setWord(abi.NetRingRxRoom, 0)
			r.kick()
		}
		if i < frames {
			r.waitWord(abi.NetRingRxHead, "more frames after the kick", func(h uint32) bool { return h != tail })
		}
	}
}
