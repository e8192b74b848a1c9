package stack

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/morgana-os/morgana/ackdelay"
	"github.com/morgana-os/morgana/netdev"
)

// batchSize is how many frames one Read or Write on the device moves at
// most. gVisor's fifo queueing discipline hands over at most 47 packets at a
// time (a 64 KiB TCP burst at a 1500-byte MTU), so 64 covers a whole batch.
const batchSize = 64

// linkEndpoint is a gVisor link endpoint over a netdev.Device, in the manner
// of gVisor's link/fdbased: a reader goroutine moves batches of frames from
// the device into the stack, and WritePackets moves batches the other way.
// Frames carry their Ethernet header; the link/ethernet wrapper around this
// endpoint adds and strips it, so MTU here is the frame's size.
//
// Copies: a received frame is read by the device straight into the buffer
// that becomes the packet (none here); a sent packet, scattered over
// header and payload views, is gathered once into a frame buffer.
type linkEndpoint struct {
	dev      netdev.Device
	mtu      uint32 // the device's MTU plus the Ethernet header
	frameLen int    // the device's largest frame
	vnet     bool   // frames carry a virtio-net header: offload (link_vnet.go)
	batch    int    // frames per device call at most
	addr     tcpip.LinkAddress
	log      *slog.Logger

	mu         sync.Mutex
	dispatcher gvstack.NetworkDispatcher // nil when detached
	started    bool
	onClose    func()
	reader     sync.WaitGroup

	closeOnce sync.Once

	// wmu serializes writes, as netdev.Device asks; it owns frames and
	// bufs, the batch being written (each buffer allocated on first use).
	wmu    sync.Mutex
	bufs   [][]byte
	frames [][]byte
	acks   *ackdelay.Filter // pure ACKs held for a later segment to carry

	// The UDP fast path (udpfast.go): nil fast when it is off; the NIC's
	// IPv4 addresses, as addAddress and removeAddress change them.
	fast      *fastPath
	fastIndex uint16 // in fast.links
	nicID     tcpip.NICID
	fastMu    sync.Mutex
	fastAddrs atomic.Pointer[fastAddrs]
	// The datagram answered inline (udpfast_inline.go): the reader's.
	inlineOut   udp4Out
	inlineReply func([]byte) error
}

var _ gvstack.LinkEndpoint = (*linkEndpoint)(nil)

func newLinkEndpoint(dev netdev.Device, log *slog.Logger) *linkEndpoint {
	e := &linkEndpoint{
		dev:      dev,
		mtu:      uint32(dev.MTU() + netdev.EthernetHeaderLen),
		frameLen: dev.FrameLen(),
		vnet:     dev.Vnet(),
		batch:    batchSize,
		addr:     tcpip.LinkAddress(dev.MAC()),
		log:      log,
	}
	if e.vnet {
		e.batch = vnetBatchSize
	}
	e.bufs = make([][]byte, e.batch)
	e.frames = make([][]byte, 0, e.batch)
	e.inlineReply = e.reply // a method value, made once
	e.acks = ackdelay.New(dev.MTU(), e.flushACKs)
	return e
}

func (e *linkEndpoint) MTU() uint32                    { return e.mtu }
func (e *linkEndpoint) SetMTU(uint32)                  {} // the device's MTU is fixed
func (e *linkEndpoint) MaxHeaderLength() uint16        { return 0 }
func (e *linkEndpoint) LinkAddress() tcpip.LinkAddress { return e.addr }
func (e *linkEndpoint) SetLinkAddress(tcpip.LinkAddress) {
	// The device's MAC is fixed.
}
func (e *linkEndpoint) Capabilities() gvstack.LinkEndpointCapabilities { return 0 }
func (e *linkEndpoint) ARPHardwareType() header.ARPHardwareType        { return header.ARPHardwareNone }
func (e *linkEndpoint) AddHeader(*gvstack.PacketBuffer)                {}
func (e *linkEndpoint) ParseHeader(*gvstack.PacketBuffer) bool         { return true }

// Attach starts the reader on the first call with a dispatcher; a nil
// dispatcher detaches the endpoint, and frames read after that are dropped.
func (e *linkEndpoint) Attach(d gvstack.NetworkDispatcher) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dispatcher = d
	if d != nil && !e.started {
		e.started = true
		e.reader.Add(1)
		go e.readLoop()
	}
}

func (e *linkEndpoint) IsAttached() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dispatcher != nil
}

// Wait waits for the reader, which returns once the device is closed.
func (e *linkEndpoint) Wait() { e.reader.Wait() }

// Close closes the device, which ends the reader.
func (e *linkEndpoint) Close() {
	e.closeOnce.Do(func() {
		e.acks.Stop()
		if err := e.dev.Close(); err != nil {
			e.log.Warn("closing network device", "nic", e.dev.Name(), "err", err)
		}
	})
}

// SetOnCloseAction sets what to do when the device fails on its own (the
// stack removes the NIC); Close, the stack's doing, does not call it.
func (e *linkEndpoint) SetOnCloseAction(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onClose = f
}

func (e *linkEndpoint) currentDispatcher() gvstack.NetworkDispatcher {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dispatcher
}

// WritePackets gathers each packet into a frame buffer and writes them to
// the device in batches. A frame the device does not take is dropped, as a
// NIC drops it; only a closed device is an error.
func (e *linkEndpoint) WritePackets(pkts gvstack.PacketBufferList) (int, tcpip.Error) {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	sent := 0
	frames := e.frames[:0]
	for _, pkt := range pkts.AsSlice() {
		buf := e.bufs[len(frames)]
		if buf == nil {
			buf = make([]byte, e.frameLen)
			e.bufs[len(frames)] = buf
		}
		n := 0
		if e.vnet {
			h := vnetHeader(pkt)
			h.Encode(buf)
			n = netdev.VnetHdrLen
		}
		if n+pkt.Size() > len(buf) {
			continue // larger than the device takes: the stack should never send it
		}
		eth := n
		n += gather(buf[n:], pkt)
		if !e.acks.Pass(buf[:n], eth) {
			sent++ // held, to be sent later or carried by a later segment
			continue
		}
		frames = append(frames, buf[:n])
		if len(frames) == len(e.bufs) {
			if err := e.write(frames); err != nil {
				return sent, err
			}
			sent += len(frames)
			frames = frames[:0]
		}
	}
	if len(frames) > 0 {
		if err := e.write(frames); err != nil {
			return sent, err
		}
		sent += len(frames)
	}
	return sent, nil
}

// flushACKs sends the pure ACKs that waited in vain for a segment to ride
// on.
func (e *linkEndpoint) flushACKs() {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	frames := e.acks.Take(e.frames[:0])
	for len(frames) > 0 {
		k := min(len(frames), e.batch)
		if e.write(frames[:k]) != nil {
			return
		}
		frames = frames[k:]
	}
}

func (e *linkEndpoint) write(frames [][]byte) tcpip.Error {
	if _, err := e.dev.Write(frames); err != nil {
		if errors.Is(err, netdev.ErrClosed) || errors.Is(err, net.ErrClosed) {
			return &tcpip.ErrClosedForSend{}
		}
		e.log.Debug("network device write", "nic", e.dev.Name(), "err", err)
	}
	return nil
}

// gather copies the whole packet, headers included, into buf and returns
// its length. It walks the packet's views rather than calling AsSlices,
// which allocates.
func gather(buf []byte, pkt *gvstack.PacketBuffer) int {
	views, skip := pkt.AsViewList()
	n := 0
	for v := views.Front(); v != nil; v = v.Next() {
		b := v.AsSlice()
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		n += copy(buf[n:], b[skip:])
		skip = 0
	}
	return n
}
