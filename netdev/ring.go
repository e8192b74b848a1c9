package netdev

import (
	"encoding/binary"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// ringDevice is a NIC whose frames travel through rings in memory shared
// with the hvt monitor (abi.NetRing*). The descriptor is only for waiting
// (epoll, through Go's poller) and for the kick that wakes a sleeping
// monitor; under load neither is needed and frames move without exits.
type ringDevice struct {
	info Info
	f    *os.File
	rc   syscall.RawConn
	rx   []byte // the rings' slots
	tx   []byte
	kick int // the descriptor, for the zero-length write that kicks

	closed atomic.Bool

	rxHead, rxTail, rxWant, rxRoom *uint32
	txHead, txTail, txWant, txRoom *uint32
}

func openRing(d abi.Device, info Info) (Device, error) {
	mem, err := unix.Mmap(d.FD, 0, abi.NetRingSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(d.FD, true); err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	f := os.NewFile(uintptr(d.FD), "netdev:"+d.Name)
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := func(off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	return &ringDevice{
		info: info, f: f, rc: rc, kick: d.FD,
		rx: mem[abi.NetRingRxOffset:abi.NetRingTxOffset], tx: mem[abi.NetRingTxOffset:abi.NetRingSize],
		rxHead: w(abi.NetRingRxHead), rxTail: w(abi.NetRingRxTail), rxWant: w(abi.NetRingRxWant), rxRoom: w(abi.NetRingRxRoom),
		txHead: w(abi.NetRingTxHead), txTail: w(abi.NetRingTxTail), txWant: w(abi.NetRingTxWant), txRoom: w(abi.NetRingTxRoom),
	}, nil
}

func (d *ringDevice) Name() string          { return d.info.Name }
func (d *ringDevice) MAC() net.HardwareAddr { return d.info.MAC }
func (d *ringDevice) MTU() int              { return d.info.MTU }
func (d *ringDevice) Vnet() bool            { return d.info.Vnet }
func (d *ringDevice) FrameLen() int         { return d.info.FrameLen() }

// ringCopy copies between p and the ring's bytes from off on, wrapping at
// the ring's end, in the direction out says.
func ringCopy(ring []byte, off int, p []byte, out bool) {
	for len(p) > 0 {
		off %= len(ring)
		var k int
		if out {
			k = copy(ring[off:], p)
		} else {
			k = copy(p, ring[off:])
		}
		p, off = p[k:], off+k
	}
}

func slotOffset(i uint32) int { return int(i%abi.NetRingSlots) * abi.NetRingSlotSize }

func (d *ringDevice) Read(frames [][]byte, sizes []int) (int, error) {
	for {
		tail := atomic.LoadUint32(d.rxTail)
		head := atomic.LoadUint32(d.rxHead)
		if head != tail {
			n := 0
			for tail != head && n < len(frames) {
				off := slotOffset(tail)
				size := int(binary.LittleEndian.Uint32(d.rx[off:]))
				slots := abi.NetRingSlotsFor(size)
				if size > d.FrameLen() || slots > head-tail {
					tail = head // the monitor broke the protocol: skip all
					break
				}
				sizes[n] = min(size, len(frames[n]))
				ringCopy(d.rx, off+abi.NetRingFrameOffset, frames[n][:sizes[n]], false)
				n++
				tail += slots
			}
			atomic.StoreUint32(d.rxTail, tail)
			if atomic.LoadUint32(d.rxRoom) != 0 && atomic.CompareAndSwapUint32(d.rxRoom, 1, 0) {
				unix.Write(d.kick, nil) // the monitor waits for room
			}
			if n == 0 {
				continue
			}
			return n, nil
		}
		// Empty: ask to be woken, look once more, then sleep in the
		// poller. The request is made before every look, also after a
		// wake-up that finds nothing: the monitor clears it when it wakes
		// the guest, so a reader that slept on without asking again would
		// never be woken.
		err := d.rc.Read(func(uintptr) bool {
			atomic.StoreUint32(d.rxWant, 1)
			return atomic.LoadUint32(d.rxHead) != atomic.LoadUint32(d.rxTail)
		})
		if err != nil {
			if d.closed.Load() {
				return 0, ErrClosed
			}
			return 0, closedOr(err)
		}
	}
}

func (d *ringDevice) Write(frames [][]byte) (int, error) {
	sent := 0
	head := atomic.LoadUint32(d.txHead)
	for sent < len(frames) {
		f := frames[sent]
		if len(f) > d.FrameLen() {
			f = f[:d.FrameLen()] // the monitor would drop it; keep the ring well-formed
		}
		slots := abi.NetRingSlotsFor(len(f))
		if head+slots-atomic.LoadUint32(d.txTail) > abi.NetRingSlots {
			// No room: publish what is there, make sure the monitor is
			// draining, then wait for room, asking for it before every
			// look (as Read asks for frames): the monitor wakes the guest
			// when it frees any room, which may be less than this frame
			// needs, and clears the request as it does.
			atomic.StoreUint32(d.txHead, head)
			d.kickMonitor()
			err := d.rc.Write(func(uintptr) bool {
				atomic.StoreUint32(d.txRoom, 1)
				return head+slots-atomic.LoadUint32(d.txTail) <= abi.NetRingSlots
			})
			if err != nil {
				if d.closed.Load() {
					return sent, ErrClosed
				}
				return sent, closedOr(err)
			}
			continue
		}
		off := slotOffset(head)
		binary.LittleEndian.PutUint32(d.tx[off:], uint32(len(f)))
		ringCopy(d.tx, off+abi.NetRingFrameOffset, f, true)
		head += slots
		sent++
	}
	atomic.StoreUint32(d.txHead, head)
	d.kickMonitor()
	return sent, nil
}

// kickMonitor wakes the monitor's transmitter if it asked to be.
func (d *ringDevice) kickMonitor() {
	if atomic.LoadUint32(d.txWant) != 0 && atomic.CompareAndSwapUint32(d.txWant, 1, 0) {
		unix.Write(d.kick, nil)
	}
}

func (d *ringDevice) Close() error {
	d.closed.Store(true)
	return d.f.Close()
}
