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

// A small frame received wakes a sleeping transmitter and clears TxWant,
// so that an answer soon after goes out without the kick that costs the
// guest an exit; a large one, bulk data, does not.
func TestNetRingsNudge(t *testing.T) {
	r := newRingFixture(t, vnetDevice)
	for i := range 3 {
		r.waitWord(abi.NetRingTxWant, "the transmitter to sleep", func(w uint32) bool { return w == 1 })
		if _, err := unix.Write(r.host, testFrame(i, 80)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for r.vm.nets[0].nudges.Load() != uint64(i+1) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		if got := r.vm.nets[0].nudges.Load(); got != uint64(i+1) {
			t.Fatalf("after frame %d the transmitter was woken %d times", i, got)
		}
	}
	if k := r.vm.nets[0].kicks.Load(); k != 0 {
		t.Errorf("%d kicks", k)
	}
	n := r.vm.nets[0]
	r.waitWord(abi.NetRingTxWant, "the transmitter to sleep", func(w uint32) bool { return w == 1 })
	if _, err := unix.Write(r.host, testFrame(3, 8000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.rxFrames.Load() != 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	if got := n.rxFrames.Load(); got != 4 {
		t.Fatalf("%d frames received, want 4", got)
	}
	if got := n.nudges.Load(); got != 3 {
		t.Errorf("an 8000-byte frame woke the transmitter (%d nudges, want 3)", got)
	}
}

// ringWakeFixture is a network device with rings and no host side, in the
// descriptor table of a fake VM and registered, as Go's poller registers
// it, with an epoll instance: the test plays both the monitor's goroutines
// (calling what they call after moving head or tail) and the guest.
type ringWakeFixture struct {
	t       *testing.T
	vm      *VM
	th      *thread
	n       *netDev
	r       *netRing
	ep, buf uint64
}

func newRingWakeFixture(t *testing.T) *ringWakeFixture {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	n := &netDev{vm: vm, info: vnetDevice}
	va, pages, err := vm.as.MapDevice(abi.NetRingSize, "netring:test")
	if err != nil {
		t.Fatal(err)
	}
	n.ring = &netRing{va: va, pages: pages, kick: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	dev, err := vm.files.install(&fd{f: n, accmode: unix.O_RDWR, nonblock: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &ringWakeFixture{t: t, vm: vm, th: th, n: n, r: n.ring, buf: scratch(t, vm, 4096)}
	f.ep = uint64(call(th, sysEpollCreate1, unix.EPOLL_CLOEXEC))
	putU64(t, vm, f.buf, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET|uint64(7)<<32)
	putU64(t, vm, f.buf+8, 0)
	if got := call(th, sysEpollCtl, f.ep, unix.EPOLL_CTL_ADD, dev, f.buf); got != 0 {
		t.Fatalf("epoll_ctl = %d", got)
	}
	f.poll() // the first report of a new registration
	return f
}

func (f *ringWakeFixture) set(off int, v uint32) { storeWord(f.r.word(off), v) }
func (f *ringWakeFixture) get(off int) uint32    { return loadWord(f.r.word(off)) }

// poll is the guest's poller: the events epoll reports now (none: 0).
func (f *ringWakeFixture) poll() uint32 {
	got := call(f.th, sysEpollPwait, f.ep, f.buf+64, 8, 0)
	if got < 0 || got > 1 {
		f.t.Fatalf("epoll_pwait = %d", got)
	}
	if got == 0 {
		return 0
	}
	return uint32(getU64(f.t, f.vm, f.buf+64))
}

// A guest that takes a frame before the monitor has looked at RxWant (its
// other vCPU reads rx while the monitor publishes), finds rx empty again,
// asks to be woken and sleeps, must be woken by the next frame. The
// monitor used to clear that new request as if it were the one the frame
// answered; the wake that went with the clear showed an empty rx (no
// EPOLLIN), so the guest's reader slept on and no frame woke it again.
func TestNetRingsRxWakeAfterFrameTaken(t *testing.T) {
	f := newRingWakeFixture(t)
	f.set(abi.NetRingRxWant, 1) // the reader sleeps on an empty rx
	for h := uint32(1); h <= 3; h++ {
		// The monitor advances head...
		f.set(abi.NetRingRxHead, h)
		// ...the guest takes the frame, finds rx empty, asks, sleeps...
		f.set(abi.NetRingRxTail, h)
		f.set(abi.NetRingRxWant, 1)
		// ...and only then the monitor looks at RxWant.
		f.n.rxPublished(f.r, h)
		if ev := f.poll(); ev&unix.EPOLLIN != 0 {
			t.Errorf("frame %d: EPOLLIN reported with rx empty", h)
		}
	}
	// The next frame, which the sleeping guest does not see by itself.
	f.set(abi.NetRingRxHead, 4)
	f.n.rxPublished(f.r, 4)
	if ev := f.poll(); ev&unix.EPOLLIN == 0 {
		t.Fatalf("a frame in rx and the guest asleep on it: epoll reports %#x, RxWant %d; the guest is never woken", ev, f.get(abi.NetRingRxWant))
	}
	if w := f.get(abi.NetRingRxWant); w != 0 {
		t.Errorf("RxWant %d after the wake", w)
	}

	// A guest asleep on frames not yet taken is woken by the next one
	// (the monitor found RxWant set and the guest's tail behind).
	f.set(abi.NetRingRxWant, 1)
	f.set(abi.NetRingRxHead, 5)
	f.n.rxPublished(f.r, 5)
	if ev := f.poll(); ev&unix.EPOLLIN == 0 || f.get(abi.NetRingRxWant) != 0 {
		t.Errorf("frames waiting: epoll reports %#x, RxWant %d", ev, f.get(abi.NetRingRxWant))
	}
}

// The same on tx: a guest that fills the room the monitor just freed,
// asks for room (TxRoom) and sleeps before the monitor looks at TxRoom must
// be woken when the monitor frees room next. (A frame waits in rx, so the
// wake that found tx full is reported, as readable, and spent.)
func TestNetRingsTxRoomWakeAfterRoomTaken(t *testing.T) {
	f := newRingWakeFixture(t)
	f.set(abi.NetRingRxHead, 1) // the reader is busy: a frame waits
	f.poll()
	// The monitor frees slot 0 of a full tx...
	f.set(abi.NetRingTxHead, abi.NetRingSlots)
	f.set(abi.NetRingTxTail, 1)
	// ...the guest fills it, asks for room, sleeps...
	f.set(abi.NetRingTxHead, abi.NetRingSlots+1)
	f.set(abi.NetRingTxRoom, 1)
	// ...and only then the monitor looks at TxRoom.
	f.n.txFreed(f.r, 1)
	if ev := f.poll(); ev&unix.EPOLLOUT != 0 {
		t.Errorf("EPOLLOUT reported with tx full")
	}
	// The monitor drains more.
	f.set(abi.NetRingTxTail, 40)
	f.n.txFreed(f.r, 40)
	if ev := f.poll(); ev&unix.EPOLLOUT == 0 {
		t.Fatalf("room in tx and the guest asleep waiting for it: epoll reports %#x, TxRoom %d; the guest is never woken", ev, f.get(abi.NetRingTxRoom))
	}
	if w := f.get(abi.NetRingTxRoom); w != 0 {
		t.Errorf("TxRoom %d after the wake", w)
	}
}
