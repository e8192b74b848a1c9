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
	mem  []byte
	kick int // the descriptor, for the zero-length write that kicks

	closed atomic.Bool

	rxHead, rxTail, rxWant         *uint32
	txHead, txTail, txWant, txRoom *uint32
}

func openRing(d abi.Device, info Info) (Device, error) {
	if info.MTU+18 > abi.NetRingFrameMax {
		return nil, unix.EINVAL
	}
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
		info: info, f: f, rc: rc, mem: mem, kick: d.FD,
		rxHead: w(abi.NetRingRxHead), rxTail: w(abi.NetRingRxTail), rxWant: w(abi.NetRingRxWant),
		txHead: w(abi.NetRingTxHead), txTail: w(abi.NetRingTxTail), txWant: w(abi.NetRingTxWant), txRoom: w(abi.NetRingTxRoom),
	}, nil
}

func (d *ringDevice) Name() string          { return d.info.Name }
func (d *ringDevice) MAC() net.HardwareAddr { return d.info.MAC }
func (d *ringDevice) MTU() int              { return d.info.MTU }

func (d *ringDevice) slot(base int, i uint32) []byte {
	off := base + int(i%abi.NetRingSlots)*abi.NetRingSlotSize
	return d.mem[off : off+abi.NetRingSlotSize]
}

func (d *ringDevice) Read(frames [][]byte, sizes []int) (int, error) {
	for {
		tail := atomic.LoadUint32(d.rxTail)
		head := atomic.LoadUint32(d.rxHead)
		if head != tail {
			n := 0
			for ; tail != head && n < len(frames); tail++ {
				s := d.slot(abi.NetRingRxOffset, tail)
				size := min(int(binary.LittleEndian.Uint32(s)), abi.NetRingFrameMax)
				sizes[n] = copy(frames[n], s[abi.NetRingFrameOffset:abi.NetRingFrameOffset+size])
				n++
			}
			atomic.StoreUint32(d.rxTail, tail)
			return n, nil
		}
		// Empty: ask to be woken, look once more, then sleep in the poller.
		atomic.StoreUint32(d.rxWant, 1)
		err := d.rc.Read(func(uintptr) bool {
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
	for sent < len(frames) {
		head := atomic.LoadUint32(d.txHead)
		if head-atomic.LoadUint32(d.txTail) >= abi.NetRingSlots {
			// Full: make sure the monitor is draining, then wait for room.
			atomic.StoreUint32(d.txRoom, 1)
			d.kickMonitor()
			err := d.rc.Write(func(uintptr) bool {
				return atomic.LoadUint32(d.txHead)-atomic.LoadUint32(d.txTail) < abi.NetRingSlots
			})
			if err != nil {
				if d.closed.Load() {
					return sent, ErrClosed
				}
				return sent, closedOr(err)
			}
			continue
		}
		for ; sent < len(frames) && head-atomic.LoadUint32(d.txTail) < abi.NetRingSlots; head++ {
			f := frames[sent]
			if len(f) > d.info.MTU+18 {
				f = f[:d.info.MTU+18] // the monitor would drop it; keep the slot well-formed
			}
			s := d.slot(abi.NetRingTxOffset, head)
			binary.LittleEndian.PutUint32(s, uint32(copy(s[abi.NetRingFrameOffset:], f)))
			sent++
		}
		atomic.StoreUint32(d.txHead, head)
		d.kickMonitor()
	}
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
