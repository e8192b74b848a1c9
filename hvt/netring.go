package hvt

import (
	"encoding/binary"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// netRing is the monitor's side of a device's shared rings (see
// abi.NetRing*): the receive goroutine fills rx straight from the host
// descriptor, and a transmit goroutine drains tx to it.
type netRing struct {
	va    uint64        // where the guest has it
	pages [][]byte      // host views of its pages
	kick  chan struct{} // tx has frames
	room  chan struct{} // rx has room

	// The frame being received or sent, slot by slot, and their iovecs:
	// the receiver's and the transmitter's, each used by one goroutine.
	rxChunks, txChunks [][]byte
	rxIov, txIov       iovecs
	readv              func(fd uintptr) bool // the receiver's read of one frame
	rxGot              int                   // ...and its result
	rxErr              error
}

// word returns the control word at off.
func (r *netRing) word(off int) *uint32 { return wordAt(r.pages[0], off) }

// slot returns the bytes of slot i of the ring at base.
func (r *netRing) slot(base int, i uint32) []byte {
	off := base + int(i%abi.NetRingSlots)*abi.NetRingSlotSize
	p := r.pages[off/pageSize]
	o := off % pageSize
	return p[o : o+abi.NetRingSlotSize]
}

// span appends to chunks the bytes of an n-byte frame that starts at slot
// i of the ring at base, slot by slot (slots lie in pages of their own).
func (r *netRing) span(chunks [][]byte, base int, i uint32, n int) [][]byte {
	s := r.slot(base, i)[abi.NetRingFrameOffset:]
	for n > len(s) {
		chunks = append(chunks, s)
		n -= len(s)
		i++
		s = r.slot(base, i)
	}
	return append(chunks, s[:n])
}

const pageSize = 4096

// mapRing gives the guest the device's rings: the mmap of its descriptor.
func (n *netDev) mapRing(t *thread, length uint64) (uint64, error) {
	if length != abi.NetRingSize {
		return 0, unix.EINVAL
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ring != nil {
		return 0, unix.EBUSY // one mapping per device
	}
	select {
	case <-n.vm.done:
		return 0, unix.EINTR // the VM is stopping: no new goroutine
	default:
	}
	va, pages, err := t.vm.as.MapDevice(abi.NetRingSize, "netring:"+n.info.Name)
	if err != nil {
		return 0, err
	}
	n.ring = &netRing{va: va, pages: pages, kick: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	n.queue = nil // frames received before the rings existed are dropped
	// The receiver may wait for a frame for the queue: wake it to switch.
	n.file.SetReadDeadline(time.Unix(1, 0))
	n.vm.devWG.Add(1)
	go func(r *netRing) {
		defer n.vm.devWG.Done()
		n.transmit(r)
	}(n.ring)
	return va, nil
}

// receiveRing puts one frame from the host descriptor into rx. It
// returns false when the device or the VM is gone.
func (n *netDev) receiveRing(r *netRing) bool {
	head, tail := r.word(abi.NetRingRxHead), r.word(abi.NetRingRxTail)
	h := loadWord(head)
	// The frame's size is known only once it is read: wait for room for
	// the largest. The guest is behind; the host's queue holds further
	// frames meanwhile (and drops them when it is full too).
	need := abi.NetRingSlotsFor(n.frameLen())
	hasRoom := func() bool { return abi.NetRingSlots-(h-loadWord(tail)) >= need }
	for !hasRoom() {
		if !oneCPU && n.spin(hasRoom) {
			break
		}
		storeWord(r.word(abi.NetRingRxRoom), 1)
		if hasRoom() {
			break
		}
		select {
		case <-n.vm.done:
			return false
		case <-r.room:
		}
	}
	r.rxChunks = r.span(r.rxChunks[:0], abi.NetRingRxOffset, h, n.frameLen())
	if r.readv == nil { // made once: a closure per frame would be three allocations
		r.readv = func(fd uintptr) bool {
			r.rxGot, r.rxErr = r.rxIov.rw(unix.SYS_READV, int(fd), r.rxChunks)
			return r.rxErr != unix.EAGAIN
		}
	}
	err := n.rc.Read(r.readv)
	got, rerr := r.rxGot, r.rxErr
	if err != nil && n.interrupted(err) {
		return true
	}
	if err != nil || (rerr != nil && rerr != unix.EINTR) || (got == 0 && rerr == nil) {
		return false
	}
	if rerr != nil {
		return true
	}
	binary.LittleEndian.PutUint32(r.slot(abi.NetRingRxOffset, h), uint32(got))
	next := h + abi.NetRingSlotsFor(got)
	storeWord(head, next)
	n.rxFrames.Add(1)
	n.rxBytes.Add(uint64(got))
	// A small frame in, a request, is likely to be answered: wake the
	// transmitter now, if it sleeps, so that the answer needs no kick (an
	// exit). A large one is bulk data, answered by an ACK that TCP delays
	// and coalesces: waking the transmitter for each costs the receiving
	// guest its throughput (measured: 0.90x -> 0.77x of veth uploading to
	// hvt), while DNS answers 12-15% more queries with the nudge.
	if want := r.word(abi.NetRingTxWant); got <= nudgeMax && loadWord(want) != 0 && casWord(want, 1, 0) {
		n.nudges.Add(1)
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	n.rxPublished(r, next)
	return true
}

// rxPublished wakes the guest, if it asked (RxWant), once head has been
// advanced to h: it clears the request and makes the descriptor readable.
//
// The guest may have taken every frame up to h before the monitor looks
// at RxWant, found rx empty, asked again and gone to sleep: the clear then
// erases that new request, and the wake would not reach the guest's
// reader, as epoll reports the descriptor as it is when it collects, and
// an empty rx is not readable. The reader would sleep on with RxWant clear,
// and no later frame would wake it. So the monitor looks at tail after the
// clear (the guest sets RxWant after it advances tail): when the guest has
// taken everything, it puts the request back, and there is nothing to
// wake it for yet. The request so kept may be an old one, made before the
// guest found frames after all: that costs one wake it did not need.
func (n *netDev) rxPublished(r *netRing, h uint32) {
	n.answer(r.word(abi.NetRingRxWant), func() bool { return loadWord(r.word(abi.NetRingRxTail)) == h })
}

// answer answers a request word the guest set (RxWant, TxRoom) once the
// monitor has moved the ring: it clears the request and wakes the guest,
// unless nothing, looked at after the clear, says the guest would find
// nothing to act on; the request is then put back for the next move.
func (n *netDev) answer(req *uint32, nothing func() bool) {
	if loadWord(req) == 0 {
		return
	}
	storeWord(req, 0)
	if nothing() {
		storeWord(req, 1)
		return
	}
	n.wake()
}

// wake makes the descriptor's readiness change visible to epoll.
func (n *netDev) wake() {
	n.mu.Lock()
	n.gen++
	n.mu.Unlock()
	n.notifications.Add(1)
	n.vm.files.notify()
}

// nudgeMax is the largest frame received that wakes the transmitter.
const nudgeMax = 2048

// ringSendWaits is how long the transmitter waits for a full host queue
// (in 20 ms polls) before it drops a frame: it blocks no vCPU.
const ringSendWaits = 50

// spinFor is how long the transmitter polls an empty ring before it asks
// to be kicked: a kick costs the guest an exit.
const spinFor = 50 * time.Microsecond

// oneCPU says the monitor runs on one host CPU, shared by its vCPUs and
// its device goroutines: a spinning goroutine then takes the core from the
// vCPU that would fill the ring, and pays only while the guest streams
// (it saves a kick per burst) and not while it answers a small frame at a
// time. The receiver, waiting for room, never spins there.
// Measured pinned to one core: DNS answers 3-6% more queries a second
// without the spin, a 100 KB web page is served 10-20% faster with it.
var oneCPU = runtime.NumCPU() == 1

// streamBytes is the burst, in bytes sent since the transmitter last
// slept, after which it expects more and spins on one CPU.
const streamBytes = 16 << 10

// transmit sends the frames of tx until the VM ends.
func (n *netDev) transmit(r *netRing) {
	head, tail, want := r.word(abi.NetRingTxHead), r.word(abi.NetRingTxTail), r.word(abi.NetRingTxWant)
	t := loadWord(tail)
	burst := 0 // bytes sent since the transmitter last slept
	for {
		h := loadWord(head)
		if h == t {
			if n.idle(r, head, want, t, burst) {
				return
			}
			burst = 0
			continue
		}
		for t != h {
			size := int(binary.LittleEndian.Uint32(r.slot(abi.NetRingTxOffset, t)))
			slots := h - t
			if size >= 14 && size <= n.frameLen() && abi.NetRingSlotsFor(size) <= slots {
				slots = abi.NetRingSlotsFor(size)
				r.txChunks = r.span(r.txChunks[:0], abi.NetRingTxOffset, t, size)
				burst += size
				n.send(r.txChunks, &r.txIov, ringSendWaits)
			} else {
				// A malformed frame is the guest's problem only: drop it,
				// with the slots it claims (no more than it filled).
				if size <= abi.NetRingSlots*abi.NetRingSlotSize {
					slots = min(slots, abi.NetRingSlotsFor(size))
				}
				n.txDrops.Add(1)
			}
			t += slots
		}
		storeWord(tail, t)
		n.txFreed(r, t)
	}
}

// txFreed wakes the guest, if it waits for room in tx (TxRoom), once tail
// has been advanced to t. As on rx (rxPublished), the clear may erase a
// request the guest made after it had filled the room just freed: when tx
// is full, epoll would not report the descriptor writable, so the request
// is put back for the next slots freed. (The guest asks again every time
// it finds too little room, so a wake with less room than its next frame
// needs does no harm.)
func (n *netDev) txFreed(r *netRing, t uint32) {
	n.answer(r.word(abi.NetRingTxRoom), func() bool { return loadWord(r.word(abi.NetRingTxHead))-t >= abi.NetRingSlots })
}

// spin polls cond for spinFor and reports whether it came true: the
// guest's side moves often soon, and asking it for a kick costs it an exit.
func (n *netDev) spin(cond func() bool) bool {
	for start := time.Now(); time.Since(start) < spinFor; {
		if cond() {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// idle waits for the guest to produce after tail: a short spin (see
// oneCPU; burst is what was sent since the last wait), then a kick. It
// returns true when the VM has ended.
func (n *netDev) idle(r *netRing, head, want *uint32, tail uint32, burst int) bool {
	if (!oneCPU || burst >= streamBytes) && n.spin(func() bool { return loadWord(head) != tail }) {
		return false
	}
	storeWord(want, 1)
	if loadWord(head) != tail {
		storeWord(want, 0)
		return false
	}
	select {
	case <-r.kick:
		return false
	case <-n.vm.done:
		return true
	}
}

// send writes one frame, in pieces, to the host descriptor, waiting out a
// full host queue up to waits times (20 ms each). A frame it cannot send is dropped
// and counted, as a NIC drops; the error is for a descriptor that failed
// otherwise (the peer is gone).
func (n *netDev) send(frame [][]byte, iov *iovecs, waits int) error {
	for try := 0; ; try++ {
		sent, err := iov.rw(unix.SYS_WRITEV, n.fd, frame)
		switch {
		case err == nil:
			n.txFrames.Add(1)
			n.txBytes.Add(uint64(sent))
			return nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN && try < waits:
			unix.Poll([]unix.PollFd{{Fd: int32(n.fd), Events: unix.POLLOUT}}, 20)
			continue
		}
		n.txDrops.Add(1)
		if err == unix.EAGAIN || err == unix.ENOBUFS {
			return nil
		}
		return err
	}
}
