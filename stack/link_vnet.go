package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/morgana-os/morgana/netdev"
)

// Offload on a device with virtio-net headers (netdev.Device.Vnet): TCP
// hands the device segments of up to gsoMaxSize bytes with only the
// pseudo-header summed, and the host cuts and sums them (gVisor's host
// GSO, as over a TAP in runsc); the host hands over segments it coalesced
// in the same form, which the endpoint sums before the stack checks them.

// gsoMaxSize is the largest segment TCP hands the device: 64 KiB with its
// headers, as Linux's default gso_max_size.
const gsoMaxSize = 1 << 16

// vnetBatchSize is the batch of a device with offload: its frames are up
// to 64 KiB, so fewer make a burst, and each buffer is large.
const vnetBatchSize = 16

var _ gvstack.GSOEndpoint = (*linkEndpoint)(nil)

// GSOMaxSize is the largest segment the device takes, 0 without offload.
func (e *linkEndpoint) GSOMaxSize() uint32 {
	if e.vnet {
		return gsoMaxSize
	}
	return 0
}

// SupportedGSO says the host segments: HostGSO with offload.
func (e *linkEndpoint) SupportedGSO() gvstack.SupportedGSO {
	if e.vnet {
		return gvstack.HostGSOSupported
	}
	return gvstack.GSONotSupported
}

// vnetHeader is the virtio-net header of an outgoing packet.
func vnetHeader(pkt *gvstack.PacketBuffer) netdev.VnetHdr {
	var h netdev.VnetHdr
	gso := pkt.GSOOptions
	if gso.Type == gvstack.GSONone {
		return h // summed by the stack, whole
	}
	h.HdrLen = uint16(pkt.HeaderSize())
	if gso.NeedsCsum {
		h.Flags = netdev.VnetNeedsCsum
		h.CsumStart = header.EthernetMinimumSize + gso.L3HdrLen
		h.CsumOffset = gso.CsumOffset
	}
	if pkt.Data().Size() > int(gso.MSS) {
		switch gso.Type {
		case gvstack.GSOTCPv4:
			h.GSOType = netdev.VnetGSOTCPv4
		case gvstack.GSOTCPv6:
			h.GSOType = netdev.VnetGSOTCPv6
		}
		h.GSOSize = gso.MSS
	}
	return h
}

// completeChecksum finishes the checksum of a received frame whose header
// says it holds only the pseudo-header's sum (VnetNeedsCsum), as Linux's
// skb_checksum_help does, so that the stack checks it like any other.
// It reports false for a header that points outside the frame.
func completeChecksum(frame []byte, h netdev.VnetHdr) bool {
	start, at := int(h.CsumStart), int(h.CsumStart)+int(h.CsumOffset)
	if start >= len(frame) || at+2 > len(frame) {
		return false
	}
	sum := ^checksum.Checksum(frame[start:], 0)
	if sum == 0 {
		sum = 0xffff // 0 means "no checksum" to UDP
	}
	checksum.Put(frame[at:], sum)
	return true
}
