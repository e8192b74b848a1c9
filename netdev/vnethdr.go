package netdev

import (
	"encoding/binary"

	"github.com/morgana-os/morgana/abi"
)

// VnetHdrLen is the size of the virtio-net header in front of each frame
// of a device whose Vnet reports true.
const VnetHdrLen = abi.NetVnetHdrLen

// VnetHdr is the virtio-net header (struct virtio_net_hdr of the virtio
// specification, little-endian, without num_buffers): how a frame's
// checksum and segmentation offload travel with it, between the guest's
// stack and a TAP opened with IFF_VNET_HDR.
type VnetHdr struct {
	Flags      uint8  // VnetNeedsCsum, VnetDataValid
	GSOType    uint8  // VnetGSO*
	HdrLen     uint16 // Ethernet, IP and TCP headers, for GSO
	GSOSize    uint16 // the segment size (MSS) the frame is cut into
	CsumStart  uint16 // with VnetNeedsCsum: where checksumming starts
	CsumOffset uint16 // ...and where, from CsumStart, the sum goes
}

// Flags and GSO types of VnetHdr.
const (
	// VnetNeedsCsum: the transport checksum holds only the sum of the
	// pseudo-header; the data is trusted, as the host's own (Linux's
	// CHECKSUM_PARTIAL).
	VnetNeedsCsum = 1
	// VnetDataValid: the host checked the checksum.
	VnetDataValid = 2

	VnetGSONone  = 0
	VnetGSOTCPv4 = 1
	VnetGSOUDP   = 3
	VnetGSOTCPv6 = 4
	VnetGSOECN   = 0x80
)

// Encode writes h into b, which holds VnetHdrLen bytes.
func (h *VnetHdr) Encode(b []byte) {
	_ = b[VnetHdrLen-1]
	b[0] = h.Flags
	b[1] = h.GSOType
	binary.LittleEndian.PutUint16(b[2:], h.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], h.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], h.CsumOffset)
}

// DecodeVnetHdr reads the header at the start of b, which holds VnetHdrLen
// bytes.
func DecodeVnetHdr(b []byte) VnetHdr {
	_ = b[VnetHdrLen-1]
	return VnetHdr{
		Flags:      b[0],
		GSOType:    b[1],
		HdrLen:     binary.LittleEndian.Uint16(b[2:]),
		GSOSize:    binary.LittleEndian.Uint16(b[4:]),
		CsumStart:  binary.LittleEndian.Uint16(b[6:]),
		CsumOffset: binary.LittleEndian.Uint16(b[8:]),
	}
}
