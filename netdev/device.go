package netdev

import (
	"errors"
	"net"
)

// EthernetHeaderLen is the size of the header in front of every frame.
const EthernetHeaderLen = 14

// Device is a network interface card. Read and Write may be called
// concurrently with each other, but each by one goroutine at a time.
type Device interface {
	// Name is the name the device was attached under, e.g. "service".
	Name() string
	// MAC is the device's hardware address.
	MAC() net.HardwareAddr
	// MTU is the largest payload of a frame on the wire, its Ethernet
	// header excluded.
	MTU() int
	// Vnet reports whether every frame, read or written, starts with a
	// VnetHdr: the device offloads checksums and TCP segmentation to the
	// host, so a frame may carry up to 64 KiB of TCP payload that the
	// host cuts into MTU-sized segments (and the host hands over segments
	// it coalesced).
	Vnet() bool
	// FrameLen is the size of the largest frame, any VnetHdr included.
	FrameLen() int
	// Read blocks until at least one frame has arrived, then fills
	// frames[0..n) with up to len(frames) of them, setting sizes[i] to the
	// length of frame i. Each buffer must hold FrameLen() bytes.
	Read(frames [][]byte, sizes []int) (n int, err error)
	// Write sends frames in order and returns how many were sent.
	Write(frames [][]byte) (n int, err error)
	// Close releases the device; blocked calls return ErrClosed.
	Close() error
}

// ErrClosed is returned by calls on a closed device.
var ErrClosed = errors.New("netdev: device closed")
