package stack

import (
	"errors"

	"gvisor.dev/gvisor/pkg/buffer"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/morgana-os/morgana/netdev"
)

// readLoop moves frames from the device into the stack until the device is
// closed. The device reads each frame straight into a buffer from gVisor's
// pool, which becomes the packet as it is: receiving copies nothing here.
func (e *linkEndpoint) readLoop() {
	defer e.reader.Done()
	frameLen := int(e.mtu)
	views := make([]*buffer.View, batchSize)
	frames := make([][]byte, batchSize)
	sizes := make([]int, batchSize)
	for i := range views {
		views[i] = buffer.NewViewSize(frameLen)
		frames[i] = views[i].AsSlice()
	}
	defer func() {
		for _, v := range views {
			v.Release()
		}
	}()
	for {
		n, err := e.dev.Read(frames, sizes)
		if err != nil {
			if !errors.Is(err, netdev.ErrClosed) {
				e.log.Error("network device read failed; the NIC is down", "nic", e.dev.Name(), "err", err)
				e.mu.Lock()
				f := e.onClose
				e.mu.Unlock()
				if f != nil {
					go f() // it removes the NIC, which waits for this reader
				}
			}
			return
		}
		d := e.currentDispatcher()
		for i := range n {
			if d == nil || sizes[i] <= 0 {
				continue // detached, or an empty frame: reuse the buffer
			}
			v := views[i]
			v.CapLength(sizes[i])
			pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
			// The ethernet wrapper reads the protocol from the header.
			d.DeliverNetworkPacket(0, pkt)
			pkt.DecRef()
			views[i] = buffer.NewViewSize(frameLen)
			frames[i] = views[i].AsSlice()
		}
	}
}
