// Package netdevtest has an in-memory twin of a network device, so that the
// layers above netdev can be tested without a monitor or a TAP.
package netdevtest

import (
	"net"
	"sync"

	"github.com/morgana-os/morgana/netdev"
)

// Pipe returns two devices wired back to back: what one writes, the other
// reads. Frames are copied; a full queue drops them, as a NIC would.
func Pipe(macA, macB net.HardwareAddr, mtu int) (netdev.Device, netdev.Device) {
	return pipe(macA, macB, mtu, false)
}

// PipeVnet is Pipe with virtio-net headers on the frames (netdev.Device.Vnet):
// the two ends offload checksums and segmentation to each other, as two
// unikernels on a bridge of TAPs do, so TCP moves 64 KiB frames.
func PipeVnet(macA, macB net.HardwareAddr, mtu int) (netdev.Device, netdev.Device) {
	return pipe(macA, macB, mtu, true)
}

func pipe(macA, macB net.HardwareAddr, mtu int, vnet bool) (netdev.Device, netdev.Device) {
	ab := make(chan []byte, 512)
	ba := make(chan []byte, 512)
	done := make(chan struct{})
	var once sync.Once
	closeAll := func() { once.Do(func() { close(done) }) }
	a := &end{name: "a", mac: macA, mtu: mtu, vnet: vnet, in: ba, out: ab, done: done, close: closeAll}
	b := &end{name: "b", mac: macB, mtu: mtu, vnet: vnet, in: ab, out: ba, done: done, close: closeAll}
	return a, b
}

type end struct {
	name    string
	mac     net.HardwareAddr
	mtu     int
	vnet    bool
	in, out chan []byte
	done    chan struct{}
	close   func()
}

func (e *end) Name() string          { return e.name }
func (e *end) MAC() net.HardwareAddr { return e.mac }
func (e *end) MTU() int              { return e.mtu }
func (e *end) Vnet() bool            { return e.vnet }
func (e *end) FrameLen() int {
	return netdev.Info{MTU: e.mtu, Vnet: e.vnet}.FrameLen()
}
func (e *end) Close() error { e.close(); return nil }

func (e *end) Read(frames [][]byte, sizes []int) (int, error) {
	var f []byte
	select {
	case f = <-e.in:
	case <-e.done:
		return 0, netdev.ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(frames[n], f)
		n++
		if n == len(frames) {
			return n, nil
		}
		select {
		case f = <-e.in:
		default:
			return n, nil
		}
	}
}

func (e *end) Write(frames [][]byte) (int, error) {
	for i, f := range frames {
		select {
		case <-e.done:
			return i, netdev.ErrClosed
		default:
		}
		select {
		case e.out <- append([]byte(nil), f...):
		default: // queue full: dropped
		}
	}
	return len(frames), nil
}
