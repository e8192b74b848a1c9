package abi

// The network ring: in hvt, mmap of a network device's descriptor
// (MAP_SHARED, NetRingSize bytes, offset 0) gives memory shared with the
// monitor, so frames move without an exit each. It holds a control page
// and two rings of NetRingSlots slots: rx (monitor to guest) and tx
// (guest to monitor). A slot is a little-endian uint32 frame length and
// the frame, at NetRingFrameOffset.
//
// Each ring has one producer and one consumer. Head and tail are
// free-running uint32 counters: the producer fills slot head%NetRingSlots
// and then advances head; the consumer reads slot tail%NetRingSlots and
// then advances tail. The ring is full when head-tail == NetRingSlots.
//
// Notifications are suppressed unless asked for, as virtio's event flags
// suppress them:
//   - rx: a guest about to sleep sets RxWant and checks head once more;
//     the monitor, after advancing head, clears RxWant if set and makes
//     the descriptor readable (an epoll edge).
//   - tx: the monitor, about to sleep, sets TxWant and checks head once
//     more; the guest, after advancing head, clears TxWant if set and
//     kicks the monitor with a zero-length write(2) on the descriptor.
//   - tx room: a guest that finds tx full sets TxRoom; the monitor, after
//     advancing tail, clears it and makes the descriptor writable.
//
// Under load neither side sleeps and frames flow with no exit at all.
const (
	NetRingSlots       = 256
	NetRingSlotSize    = 2048
	NetRingFrameOffset = 4
	NetRingFrameMax    = NetRingSlotSize - NetRingFrameOffset

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
)
