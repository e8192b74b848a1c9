package usernet

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// rawGuest is a guest with no stack: the test writes and reads the
// link's frames itself.
type rawGuest struct {
	f *os.File
}

// startRaw starts a network with cfg and returns the other end of its link.
func startRaw(t testing.TB, cfg Config) (*Network, *rawGuest) {
	t.Helper()
	mon, gst, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log == nil {
		cfg.Log = testLog(t)
	}
	n, err := Start(mon, cfg)
	if err != nil {
		gst.Close()
		t.Fatalf("Start: %v", err)
	}
	f, err := pollable(gst)
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		n.Close()
	})
	return n, &rawGuest{f: f}
}

func (r *rawGuest) send(t testing.TB, frame []byte) {
	t.Helper()
	if _, err := r.f.Write(frame); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

// recv returns the first frame that match accepts, or fails the test.
func (r *rawGuest) recv(t testing.TB, match func([]byte) bool) []byte {
	t.Helper()
	buf := make([]byte, MaxMTU+header.EthernetMinimumSize)
	r.f.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := r.f.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("no matching frame from the gateway")
		}
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		if match(buf[:n]) {
			return append([]byte(nil), buf[:n]...)
		}
	}
}

// udpFrame builds an Ethernet frame of a UDP datagram.
func udpFrame(srcMAC, dstMAC tcpip.LinkAddress, src, dst netip.AddrPort, payload []byte) []byte {
	const hdrs = header.EthernetMinimumSize + header.IPv4MinimumSize + header.UDPMinimumSize
	b := make([]byte, hdrs+len(payload))
	header.Ethernet(b).Encode(&header.EthernetFields{SrcAddr: srcMAC, DstAddr: dstMAC, Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(header.IPv4MinimumSize + header.UDPMinimumSize + len(payload)),
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     tcpipAddr(src.Addr()),
		DstAddr:     tcpipAddr(dst.Addr()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(b[header.EthernetMinimumSize+header.IPv4MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(u.Payload(), payload)
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(u)))
	u.SetChecksum(^u.CalculateChecksum(checksum.Checksum(payload, xsum)))
	return b
}

// udpOf returns the IPv4 and UDP headers of frame, if it is a UDP datagram.
func udpOf(frame []byte) (header.IPv4, header.UDP, bool) {
	if len(frame) < header.EthernetMinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize ||
		header.Ethernet(frame).Type() != header.IPv4ProtocolNumber {
		return nil, nil, false
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if ip.Protocol() != uint8(header.UDPProtocolNumber) {
		return nil, nil, false
	}
	return ip, header.UDP(ip.Payload()), true
}
