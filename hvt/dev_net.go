package hvt

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// netDev is a network device: Ethernet frames between the guest and a
// host descriptor that carries one frame per read and write (a TAP, or the
// user-mode network's socket pair). A monitor goroutine receives frames
// into a bounded queue, so the guest's reads never wait on the host; the
// guest's writes go straight to the host descriptor.
type netDev struct {
	vm   *VM
	info abi.Device
	file *os.File // the host side; its read deadline stops the receiver
	fd   int
	rc   syscall.RawConn

	mu     sync.Mutex
	queue  [][]byte // received frames, oldest first
	free   [][]byte // spent buffers
	gen    uint64
	space  chan struct{} // a receive may go on: the queue was full
	ring   *netRing      // the shared rings, once the guest has mapped them
	txBufs sync.Pool     // *txBuf, for write(2) without rings

	rxFrames, txFrames, rxDrops, txDrops atomic.Uint64
	rxBytes, txBytes                     atomic.Uint64
	kicks, notifications                 atomic.Uint64
	nudges                               atomic.Uint64 // transmitter woken by a frame in
}

// txBuf is what a write(2) of a frame uses.
type txBuf struct {
	frame []byte
	one   [1][]byte
	iov   iovecs
}

// netQueueLen is how many received frames wait for the guest; beyond
// that the host's own queue fills and drops, as a NIC's ring would.
const netQueueLen = 256

func newNetDev(vm *VM, f *os.File, info abi.Device) (*netDev, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	n := &netDev{vm: vm, info: info, file: f, fd: int(f.Fd()), rc: rc, space: make(chan struct{}, 1)}
	n.txBufs.New = func() any { return &txBuf{frame: make([]byte, n.frameLen())} }
	return n, nil
}

// frameLen is the largest frame the device carries.
func (n *netDev) frameLen() int { return abi.NetFrameMax(n.info) }

// receive runs until the device or the VM is closed.
func (n *netDev) receive() {
	for {
		n.mu.Lock()
		if r := n.ring; r != nil {
			n.mu.Unlock()
			if !n.receiveRing(r) {
				return
			}
			continue
		}
		for len(n.queue) >= netQueueLen {
			n.mu.Unlock()
			select {
			case <-n.space:
			case <-n.vm.done:
				return
			}
			n.mu.Lock()
		}
		var buf []byte
		if k := len(n.free); k > 0 {
			buf, n.free = n.free[k-1], n.free[:k-1]
		} else {
			buf = make([]byte, n.frameLen())
		}
		n.mu.Unlock()
		var got int
		var rerr error
		err := n.rc.Read(func(fd uintptr) bool {
			got, rerr = unix.Read(int(fd), buf[:cap(buf)])
			return rerr != unix.EAGAIN
		})
		if err != nil && n.interrupted(err) {
			n.mu.Lock()
			n.free = append(n.free, buf)
			n.mu.Unlock()
			continue // the rings were mapped
		}
		if err != nil || (rerr != nil && rerr != unix.EINTR) || (got == 0 && rerr == nil) {
			return // closed
		}
		if rerr != nil {
			continue
		}
		n.rxFrames.Add(1)
		n.rxBytes.Add(uint64(got))
		n.mu.Lock()
		if n.ring != nil { // mapped as the frame came: it belongs to the past
			n.free = append(n.free, buf)
			n.mu.Unlock()
			n.rxDrops.Add(1)
			continue
		}
		wasEmpty := len(n.queue) == 0
		n.queue = append(n.queue, buf[:got])
		n.gen++
		n.mu.Unlock()
		if wasEmpty {
			n.vm.files.notify()
		}
	}
}

// interrupted reports whether a receive that failed with err was only
// interrupted by mapRing's deadline, and then clears it; a stopping VM's
// deadline stays.
func (n *netDev) interrupted(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.vm.stopped() {
		return false
	}
	n.file.SetReadDeadline(time.Time{})
	return true
}

func (n *netDev) read(t *thread, va, size uint64, nonblock bool) (uint64, error) {
	for {
		wait := t.vm.files.waitChan()
		n.mu.Lock()
		if len(n.queue) > 0 {
			f := n.queue[0]
			n.queue = n.queue[1:]
			full := len(n.queue) == netQueueLen-1
			n.mu.Unlock()
			k := min(uint64(len(f)), size)
			err := t.vm.as.CopyOut(va, f[:k])
			n.mu.Lock()
			n.free = append(n.free, f[:cap(f)])
			n.mu.Unlock()
			if full {
				select {
				case n.space <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return 0, err
			}
			return k, nil
		}
		n.mu.Unlock()
		if nonblock {
			return 0, unix.EAGAIN
		}
		if t.block(wait, zeroTime) == interrupted {
			return 0, unix.EINTR
		}
	}
}

func (n *netDev) write(t *thread, va, size uint64, _ bool) (uint64, error) {
	n.mu.Lock()
	r := n.ring
	n.mu.Unlock()
	if size == 0 && r != nil { // a kick: tx has frames, or rx has room
		n.kicks.Add(1)
		for _, c := range []chan struct{}{r.kick, r.room} {
			select {
			case c <- struct{}{}:
			default:
			}
		}
		return 0, nil
	}
	if size < 14 || size > uint64(n.frameLen()) {
		return 0, unix.EINVAL
	}
	buf := n.txBufs.Get().(*txBuf)
	defer n.txBufs.Put(buf)
	frame := buf.frame[:size]
	if err := t.vm.as.CopyIn(frame, va); err != nil {
		return 0, err
	}
	// One short wait for a full host queue: the guest's vCPU waits with it.
	buf.one[0] = frame
	if err := n.send(buf.one[:], &buf.iov, 1); err != nil {
		return 0, unix.EIO
	}
	return size, nil
}

func (n *netDev) ready() (uint32, uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.ring; r != nil {
		var ev uint32
		if loadWord(r.word(abi.NetRingRxHead)) != loadWord(r.word(abi.NetRingRxTail)) {
			ev |= unix.EPOLLIN
		}
		if loadWord(r.word(abi.NetRingTxHead))-loadWord(r.word(abi.NetRingTxTail)) < abi.NetRingSlots {
			ev |= unix.EPOLLOUT
		}
		return ev, n.gen
	}
	ev := uint32(unix.EPOLLOUT)
	if len(n.queue) > 0 {
		ev |= unix.EPOLLIN
	}
	return ev, n.gen
}

// logStats logs the device's counters, with the exits of the whole VM per
// frame: what the rings are for.
func (n *netDev) logStats() {
	frames := n.rxFrames.Load() + n.txFrames.Load()
	bytes := n.rxBytes.Load() + n.txBytes.Load()
	exits := float64(n.vm.stats.exits.Load())
	perFrame, perPacket := 0.0, 0.0
	if frames > 0 {
		perFrame = exits / float64(frames)
		// With offload a frame carries many packets of the wire's MTU:
		// per packet counts what the wire carried.
		packets := max(float64(frames), float64(bytes)/float64(n.info.MTU+14))
		perPacket = exits / packets
	}
	n.mu.Lock()
	r := n.ring
	n.mu.Unlock()
	rings := "none"
	if r != nil { // the control words, to see where a stuck ring stands
		w := func(off int) uint32 { return loadWord(r.word(off)) }
		rings = fmt.Sprintf("rx %d/%d want %d room %d, tx %d/%d want %d room %d",
			w(abi.NetRingRxHead), w(abi.NetRingRxTail), w(abi.NetRingRxWant), w(abi.NetRingRxRoom),
			w(abi.NetRingTxHead), w(abi.NetRingTxTail), w(abi.NetRingTxWant), w(abi.NetRingTxRoom))
	}
	n.vm.log.Info("net", "device", n.info.Name, "rings", rings, "rx", n.rxFrames.Load(), "tx", n.txFrames.Load(),
		"rx_bytes", n.rxBytes.Load(), "tx_bytes", n.txBytes.Load(),
		"rx_dropped", n.rxDrops.Load(), "tx_dropped", n.txDrops.Load(), "kicks", n.kicks.Load(), "nudges", n.nudges.Load(),
		"notifications", n.notifications.Load(), "exits_per_frame", fmt.Sprintf("%.3f", perFrame),
		"exits_per_packet", fmt.Sprintf("%.4f", perPacket))
}

// NetStats are the counters of a VM's network devices, summed.
type NetStats struct {
	RxFrames, TxFrames, Kicks, Notifications uint64
}

// NetStats returns the VM's network counters.
func (vm *VM) NetStats() NetStats {
	var s NetStats
	for _, n := range vm.nets {
		s.RxFrames += n.rxFrames.Load()
		s.TxFrames += n.txFrames.Load()
		s.Kicks += n.kicks.Load()
		s.Notifications += n.notifications.Load()
	}
	return s
}
