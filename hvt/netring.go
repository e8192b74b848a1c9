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
	va    uint64   // where the guest has it
	pages [][]byte // host views of its pages
	kick  chan struct{}
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

const pageSize = 4096

// mapRing gives the guest the device's rings: the mmap of its descriptor.
func (n *netDev) mapRing(t *thread, length uint64) (uint64, error) {
	if length != abi.NetRingSize || n.frameLen() > abi.NetRingFrameMax {
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
	n.ring = &netRing{va: va, pages: pages, kick: make(chan struct{}, 1)}
	n.queue = nil // frames received before the rings existed are dropped
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
	for backoff := time.Microsecond; h-loadWord(tail) >= abi.NetRingSlots; backoff = min(2*backoff, time.Millisecond) {
		// Full: the guest is behind. The host's queue holds further
		// frames meanwhile (and drops them when it is full too).
		select {
		case <-n.vm.done:
			return false
		case <-time.After(backoff):
		}
	}
	s := r.slot(abi.NetRingRxOffset, h)
	var got int
	var rerr error
	err := n.rc.Read(func(fd uintptr) bool {
		got, rerr = unix.Read(int(fd), s[abi.NetRingFrameOffset:])
		return rerr != unix.EAGAIN
	})
	if err != nil || (rerr != nil && rerr != unix.EINTR) || (got == 0 && rerr == nil) {
		return false
	}
	if rerr != nil {
		return true
	}
	binary.LittleEndian.PutUint32(s, uint32(got))
	storeWord(head, h+1)
	n.rxFrames.Add(1)
	if want := r.word(abi.NetRingRxWant); loadWord(want) != 0 {
		storeWord(want, 0)
		n.wake()
	}
	return true
}

// wake makes the descriptor's readiness change visible to epoll.
func (n *netDev) wake() {
	n.mu.Lock()
	n.gen++
	n.mu.Unlock()
	n.notifications.Add(1)
	n.vm.files.notify()
}

// ringSendWaits is how long the transmitter waits for a full host queue
// (in 20 ms polls) before it drops a frame: it blocks no vCPU.
const ringSendWaits = 50

// spinFor is how long the transmitter polls an empty ring before it asks
// to be kicked: a kick costs the guest an exit.
const spinFor = 50 * time.Microsecond

// transmit sends the frames of tx until the VM ends.
func (n *netDev) transmit(r *netRing) {
	head, tail, want := r.word(abi.NetRingTxHead), r.word(abi.NetRingTxTail), r.word(abi.NetRingTxWant)
	room := r.word(abi.NetRingTxRoom)
	t := loadWord(tail)
	for {
		h := loadWord(head)
		if h == t {
			if n.idle(r, head, want, t) {
				return
			}
			continue
		}
		for ; t != h; t++ {
			s := r.slot(abi.NetRingTxOffset, t)
			size := binary.LittleEndian.Uint32(s)
			if size >= 14 && int(size) <= n.frameLen() {
				n.send(s[abi.NetRingFrameOffset:abi.NetRingFrameOffset+size], ringSendWaits)
			} else {
				n.txDrops.Add(1) // a malformed slot is the guest's problem only
			}
		}
		storeWord(tail, t)
		if loadWord(room) != 0 {
			storeWord(room, 0)
			n.wake()
		}
	}
}

// idle waits for the guest to produce after tail: a short spin, then a
// kick. It returns true when the VM has ended.
func (n *netDev) idle(r *netRing, head, want *uint32, tail uint32) bool {
	for start := time.Now(); time.Since(start) < spinFor; {
		if loadWord(head) != tail {
			return false
		}
		runtime.Gosched()
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

// send writes one frame to the host descriptor, waiting out a full host
// queue up to waits times (20 ms each). A frame it cannot send is dropped
// and counted, as a NIC drops; the error is for a descriptor that failed
// otherwise (the peer is gone).
func (n *netDev) send(frame []byte, waits int) error {
	for try := 0; ; try++ {
		_, err := unix.Write(n.fd, frame)
		switch {
		case err == nil:
			n.txFrames.Add(1)
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
