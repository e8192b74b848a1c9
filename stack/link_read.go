package stack

import (
	"errors"

	"gvisor.dev/gvisor/pkg/buffer"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/morgana-os/morgana/netdev"
)

// largeLink is the frame size above which a link's received frames are
// copied out of their read buffer when they fill less than half of it:
// the buffer is kept for the next read.
const largeLink = 4096

// readLoop moves frames from the device into the stack until the device is
// closed. The device reads each frame straight into a buffer from gVisor's
// pool, which becomes the packet as it is: receiving copies nothing here.
// Datagrams of the UDP fast path (udpfast.go) are copied to their socket's
// queue instead, and their buffer read into again.
func (e *linkEndpoint) readLoop() {
	defer e.reader.Done()
	views := make([]*buffer.View, e.batch)
	frames := make([][]byte, e.batch)
	sizes := make([]int, e.batch)
	for i := range views {
		if e.vnet {
			// Frames of up to 64 KiB arrive into buffers of the endpoint's
			// and are copied into views of their size.
			frames[i] = make([]byte, e.frameLen)
			continue
		}
		views[i] = buffer.NewViewSize(e.frameLen)
		frames[i] = views[i].AsSlice()
	}
	defer func() {
		for _, v := range views {
			if v != nil {
				v.Release()
			}
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
		var now int64
		if e.fast != nil {
			now = monoNow()
		}
		for i := range n {
			if d == nil || sizes[i] <= 0 {
				continue // detached, or an empty frame: reuse the buffer
			}
			if e.fast != nil && e.takeUDP(frames[i][:sizes[i]], now) {
				continue // the UDP fast path's: reuse the buffer
			}
			var v *buffer.View
			if e.vnet {
				if v = e.vnetFrame(frames[i][:sizes[i]]); v == nil {
					continue
				}
			} else if e.frameLen > largeLink && sizes[i] <= e.frameLen/2 {
				// A frame that fills less than half of a large link's
				// buffer (an ACK, a request, where 64 KiB frames may
				// come): the buffer would stay with it as long as TCP
				// queues it, 16 times the memory TCP counts for a 4 KiB
				// segment, and a peer that fills a receive window with
				// such segments would exhaust the image's memory.
				v = buffer.NewViewWithData(frames[i][:sizes[i]])
			} else {
				v = views[i]
				v.CapLength(sizes[i])
				views[i] = buffer.NewViewSize(e.frameLen)
				frames[i] = views[i].AsSlice()
			}
			pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
			// The ethernet wrapper reads the protocol from the header.
			d.DeliverNetworkPacket(0, pkt)
			pkt.DecRef()
		}
	}
}

// vnetFrame turns a received frame with a virtio-net header into a view of
// the Ethernet frame with its checksum complete, or nil for a frame to
// drop.
func (e *linkEndpoint) vnetFrame(frame []byte) *buffer.View {
	if len(frame) < netdev.VnetHdrLen+netdev.EthernetHeaderLen {
		return nil
	}
	h := netdev.DecodeVnetHdr(frame)
	frame = frame[netdev.VnetHdrLen:]
	if h.Flags&netdev.VnetNeedsCsum != 0 && !completeChecksum(frame, h) {
		return nil
	}
	return buffer.NewViewWithData(frame)
}
