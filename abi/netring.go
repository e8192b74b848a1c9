package abi

// The network ring: in hvt, mmap of a network device's descriptor
// (MAP_SHARED, NetRingSize bytes, offset 0) gives memory shared with the
// monitor, so frames move without an exit each. It holds a control page
// and two rings of NetRingSlots slots: rx (monitor to guest) and tx
// (guest to monitor).
//
// A frame starts at a slot with a little-endian uint32 length, the frame
// following at NetRingFrameOffset; a frame longer than one slot holds
// continues through the next slots, whole, wrapping from the last slot to
// the first. It occupies NetRingSlotsFor(length) slots.
//
// Each ring has one producer and one consumer. Head and tail are
// free-running uint32 slot counters: the producer fills the slots from
// head%NetRingSlots on and then advances head past them; the consumer
// reads from tail%NetRingSlots and then advances tail past them. The free
// room is NetRingSlots-(head-tail) slots; a frame waits until it fits.
//
// Notifications are suppressed unless asked for, as virtio's event flags
// suppress them:
//   - rx: a guest about to sleep sets RxWant and checks head once more
//     (and again after every wake-up that finds rx empty); the monitor,
//     after advancing head, clears RxWant if set and makes the descriptor
//     readable (an epoll edge). If the guest has meanwhile taken every
//     frame (tail is head), it may have asked anew after taking them, and
//     an empty rx is not readable: the monitor sets RxWant again instead.
//   - tx: the monitor, about to sleep, sets TxWant and checks head once
//     more; the guest, after advancing head, clears TxWant if set and
//     kicks the monitor with a zero-length write(2) on the descriptor.
//   - tx room: a guest that finds tx without room for its next frame sets
//     TxRoom (before every look, as for rx); the monitor, after advancing
//     tail, clears it and makes the descriptor writable, or, should tx be
//     full again, sets it again.
//   - rx room: the monitor, finding rx without room for the largest
//     frame, sets RxRoom and checks tail once more; the guest, after
//     advancing tail, clears RxRoom if set and kicks.
//
// Under load neither side sleeps and frames flow with no exit at all.
const (
	NetRingSlots       = 512
	NetRingSlotSize    = 2048
	NetRingFrameOffset = 4

	NetRingControlSize = 4096
	NetRingRxOffset    = NetRingControlSize
	NetRingTxOffset    = NetRingRxOffset + NetRingSlots*NetRingSlotSize
	NetRingSize        = NetRingTxOffset + NetRingSlots*NetRingSlotSize

	// Control words (uint32), each on a cache line of its own.
	NetRingRxHead = 0   // monitor
	NetRingRxTail = 64  // guest
	NetRingRxWant = 128 // guest sets, monitor clears
	NetRingTxHead = 192 // guest
	NetRingTxTail = 256 // monitor
	NetRingTxWant = 320 // monitor sets, guest clears
	NetRingTxRoom = 384 // guest sets, monitor clears
	NetRingRxRoom = 448 // monitor sets, guest clears
)

// NetRingSlotsFor is how many slots a frame of n bytes occupies.
func NetRingSlotsFor(n int) uint32 {
	return uint32((NetRingFrameOffset + n + NetRingSlotSize - 1) / NetRingSlotSize)
}

// The virtio-net header (virtio 1.x, struct virtio_net_hdr without
// num_buffers) in front of every frame of a device with Vnet set: the
// format of a TAP opened with IFF_VNET_HDR, so the monitor passes frames
// through untouched.
const (
	NetVnetHdrLen = 10
	// NetVnetFrameMax is the largest frame of a Vnet device: the header,
	// an Ethernet header with a VLAN tag, and an IP packet of 64 KiB.
	NetVnetFrameMax = NetVnetHdrLen + 18 + 65535
)

// NetFrameMax is the largest frame a network device carries: with Vnet, a
// segmentation-offloaded one; otherwise the MTU, an Ethernet header and a
// VLAN tag.
func NetFrameMax(d Device) int {
	if d.Vnet {
		return NetVnetFrameMax
	}
	return d.MTU + 18
}
