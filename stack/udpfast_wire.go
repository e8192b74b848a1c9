package stack

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The frames of the UDP fast path (udpfast.go): Ethernet, IPv4 without
// options, UDP.

const (
	// udp4HeadersLen is the size of the Ethernet, IPv4 and UDP headers
	// in front of a fast-path datagram's payload.
	udp4HeadersLen = header.EthernetMinimumSize + header.IPv4MinimumSize + header.UDPMinimumSize
	// udp4Overhead is what IPv4 and UDP add to a payload within the MTU.
	udp4Overhead = header.IPv4MinimumSize + header.UDPMinimumSize

	// udpCsumStart and udpCsumOffset are where a virtio-net header with
	// VnetNeedsCsum points for a datagram of the fast path: the UDP
	// header, and its checksum field.
	udpCsumStart  = header.EthernetMinimumSize + header.IPv4MinimumSize
	udpCsumOffset = 6

	// fastTTL is the TTL of the datagrams the fast path sends: Linux's
	// default (net.ipv4.ip_default_ttl), and gVisor's.
	fastTTL = 64
)

// udp4Datagram is a datagram parsed out of a received frame. Its slices
// point into the frame.
type udp4Datagram struct {
	srcMAC           [6]byte
	src, dst         [4]byte
	srcPort, dstPort uint16
	ip               header.IPv4 // the IP header: 20 bytes
	udp              header.UDP  // the UDP header and payload, cut to the UDP length
}

// parseUDP4 reads frame, an Ethernet frame without virtio-net header, as
// a datagram the fast path may take: to mac (unicast) from a unicast MAC,
// IPv4 without options and not a fragment, UDP, with lengths that agree
// (IP's total length within the frame, which may be padded; UDP's length
// within IP's payload, which may be longer). It checks no checksum. It
// reports false for anything else, which is gVisor's to handle (or drop).
func parseUDP4(frame []byte, mac tcpip.LinkAddress, d *udp4Datagram) bool {
	if len(frame) < udp4HeadersLen {
		return false
	}
	eth := header.Ethernet(frame)
	if string(frame[:header.EthernetAddressSize]) != string(mac) ||
		frame[header.EthernetAddressSize]&1 != 0 || // a multicast source
		eth.Type() != header.IPv4ProtocolNumber {
		return false
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if header.IPVersion(ip) != header.IPv4Version || ip.HeaderLength() != header.IPv4MinimumSize ||
		ip.More() || ip.FragmentOffset() != 0 ||
		ip.TransportProtocol() != header.UDPProtocolNumber {
		return false
	}
	total := int(ip.TotalLength())
	if total < udp4Overhead || total > len(ip) {
		return false
	}
	udp := header.UDP(ip[header.IPv4MinimumSize:total])
	n := int(udp.Length())
	if n < header.UDPMinimumSize || n > len(udp) {
		return false
	}
	d.ip = ip[:header.IPv4MinimumSize]
	d.udp = udp[:n]
	copy(d.srcMAC[:], frame[header.EthernetAddressSize:])
	d.src = [4]byte(ip.SourceAddressSlice())
	d.dst = [4]byte(ip.DestinationAddressSlice())
	d.srcPort = udp.SourcePort()
	d.dstPort = udp.DestinationPort()
	return true
}

// checksumsValid checks d's IP header checksum and, unless the host vouched
// for it (trusted), its UDP checksum; a UDP checksum of 0 means none was
// sent (RFC 768).
func (d *udp4Datagram) checksumsValid(trusted bool) bool {
	if !d.ip.IsChecksumValid() {
		return false
	}
	if trusted || d.udp.Checksum() == 0 {
		return true
	}
	payload := checksum.Checksum(d.udp.Payload(), 0)
	return d.udp.IsChecksumValid(tcpip.AddrFrom4(d.src), tcpip.AddrFrom4(d.dst), payload)
}

// udp4Out is a datagram for the fast path to send.
type udp4Out struct {
	dstMAC           [6]byte
	src, dst         [4]byte
	srcPort, dstPort uint16
	payload          []byte
}

// encodeUDP4 writes the frame of o, from srcMAC, into b, which holds
// udp4HeadersLen+len(o.payload) bytes, and returns its length. The IPv4
// header is Linux's for a datagram of an unconnected UDP socket that fits
// the path's MTU: don't fragment, ID 0 (RFC 6864: an atomic datagram's ID
// means nothing), TTL 64; both checksums are computed.
func encodeUDP4(b []byte, srcMAC tcpip.LinkAddress, o *udp4Out) int {
	n := udp4HeadersLen + len(o.payload)
	b = b[:n]
	copy(b, o.dstMAC[:])
	copy(b[header.EthernetAddressSize:], srcMAC)
	binary.BigEndian.PutUint16(b[2*header.EthernetAddressSize:], uint16(header.IPv4ProtocolNumber))

	src, dst := tcpip.AddrFrom4(o.src), tcpip.AddrFrom4(o.dst)
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(ip)),
		Flags:       header.IPv4FlagDontFragment,
		TTL:         fastTTL,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     src,
		DstAddr:     dst,
	})
	ip.SetChecksum(^ip.CalculateChecksum())

	udp := header.UDP(ip[header.IPv4MinimumSize:])
	udp.Encode(&header.UDPFields{SrcPort: o.srcPort, DstPort: o.dstPort, Length: uint16(len(udp))})
	copy(udp.Payload(), o.payload)
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, uint16(len(udp)))
	sum = checksum.Checksum(udp.Payload(), sum)
	if sum = ^udp.CalculateChecksum(sum); sum == 0 {
		sum = 0xffff // 0 means "no checksum" (RFC 768)
	}
	udp.SetChecksum(sum)
	return n
}
