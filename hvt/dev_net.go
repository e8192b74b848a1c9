package hvt

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"

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
	fd   int
	rc   syscall.RawConn

	mu    sync.Mutex
	queue [][]byte // received frames, oldest first
	free  [][]byte // spent buffers
	gen   uint64
	space chan struct{} // a receive may go on: the queue was full

	rxFrames, txFrames, rxDrops, txDrops atomic.Uint64
}

// netQueueLen is how many received frames wait for the guest; beyond
// that the host's own queue fills and drops, as a NIC's ring would.
const netQueueLen = 256

func newNetDev(vm *VM, f *os.File, info abi.Device) (*netDev, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	n := &netDev{vm: vm, info: info, fd: int(f.Fd()), rc: rc, space: make(chan struct{}, 1)}
	return n, nil
}

// frameLen is the largest frame: the MTU, an Ethernet header and a VLAN
// tag.
func (n *netDev) frameLen() int { return n.info.MTU + 18 }

// receive runs until the device or the VM is closed.
func (n *netDev) receive() {
	for {
		n.mu.Lock()
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
		if err != nil || (rerr != nil && rerr != unix.EINTR) || (got == 0 && rerr == nil) {
			return // closed
		}
		if rerr != nil {
			continue
		}
		n.rxFrames.Add(1)
		n.mu.Lock()
		wasEmpty := len(n.queue) == 0
		n.queue = append(n.queue, buf[:got])
		n.gen++
		n.mu.Unlock()
		if wasEmpty {
			n.vm.files.notify()
		}
	}
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
	if size < 14 || size > uint64(n.frameLen()) {
		return 0, unix.EINVAL
	}
	buf := make([]byte, size)
	if err := t.vm.as.CopyIn(buf, va); err != nil {
		return 0, err
	}
	for try := 0; ; try++ {
		_, err := unix.Write(n.fd, buf)
		switch {
		case err == nil:
			n.txFrames.Add(1)
			return size, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN && try == 0:
			// The host's queue is full: give it a moment, then drop.
			unix.Poll([]unix.PollFd{{Fd: int32(n.fd), Events: unix.POLLOUT}}, 20)
			continue
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			n.txDrops.Add(1)
			return size, nil // dropped, as a NIC drops
		}
		return 0, unix.EIO
	}
}

func (n *netDev) ready() (uint32, uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ev := uint32(unix.EPOLLOUT)
	if len(n.queue) > 0 {
		ev |= unix.EPOLLIN
	}
	return ev, n.gen
}
