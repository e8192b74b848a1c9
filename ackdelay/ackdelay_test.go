package ackdelay

import (
	"bytes"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/morgana-os/morgana/netdev"
)

// segment describes a TCP segment for tcpFrame.
type segment struct {
	v6      bool
	srcPort uint16
	flags   header.TCPFlags
	ack     uint32
	payload int
	opts    []byte
}

// tcpFrame builds the Ethernet frame of a TCP segment from 10.0.0.1 (or
// fd00::1) to 10.0.0.2 (fd00::2), port 80.
func tcpFrame(s segment) []byte {
	optLen := (len(s.opts) + 3) &^ 3
	tcpLen := header.TCPMinimumSize + optLen + s.payload
	var ipLen int
	if s.v6 {
		ipLen = header.IPv6MinimumSize
	} else {
		ipLen = header.IPv4MinimumSize
	}
	b := make([]byte, header.EthernetMinimumSize+ipLen+tcpLen)
	eth := header.Ethernet(b)
	ip := b[header.EthernetMinimumSize:]
	if s.v6 {
		eth.Encode(&header.EthernetFields{Type: header.IPv6ProtocolNumber})
		header.IPv6(ip).Encode(&header.IPv6Fields{
			PayloadLength: uint16(tcpLen), TransportProtocol: header.TCPProtocolNumber, HopLimit: 64,
			SrcAddr: tcpip.AddrFrom16([16]byte{0xfd, 15: 1}), DstAddr: tcpip.AddrFrom16([16]byte{0xfd, 15: 2}),
		})
	} else {
		eth.Encode(&header.EthernetFields{Type: header.IPv4ProtocolNumber})
		header.IPv4(ip).Encode(&header.IPv4Fields{
			TotalLength: uint16(ipLen + tcpLen), Protocol: uint8(header.TCPProtocolNumber), TTL: 64,
			SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}),
		})
	}
	tcp := header.TCP(ip[ipLen:])
	tcp.Encode(&header.TCPFields{
		SrcPort: s.srcPort, DstPort: 80, SeqNum: 1000, AckNum: s.ack,
		DataOffset: uint8(header.TCPMinimumSize + optLen), Flags: s.flags, WindowSize: 1000,
	})
	opts := tcp[header.TCPMinimumSize : header.TCPMinimumSize+optLen]
	for i := range opts {
		opts[i] = header.TCPOptionNOP
	}
	copy(opts, s.opts)
	return b
}

var timestamps = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, 10, 0, 0, 0, 1, 0, 0, 0, 2}

func TestParseSegment(t *testing.T) {
	ack := header.TCPFlagAck
	v4udp := tcpFrame(segment{flags: ack})
	v4udp[header.EthernetMinimumSize+9] = uint8(header.UDPProtocolNumber)
	fragment := tcpFrame(segment{flags: ack})
	fragment[header.EthernetMinimumSize+6] = 0x20 // more fragments
	for _, tc := range []struct {
		name  string
		frame []byte
		ok    bool
		pure  bool
	}{
		{"pure ACK", tcpFrame(segment{flags: ack, ack: 7}), true, true},
		{"pure ACK, IPv6", tcpFrame(segment{v6: true, flags: ack, ack: 7}), true, true},
		{"pure ACK with timestamps", tcpFrame(segment{flags: ack, opts: timestamps}), true, true},
		{"ACK with data", tcpFrame(segment{flags: ack, payload: 10}), true, false},
		{"ACK with PSH", tcpFrame(segment{flags: ack | header.TCPFlagPsh}), true, false},
		{"FIN", tcpFrame(segment{flags: ack | header.TCPFlagFin}), true, false},
		{"SACK blocks", tcpFrame(segment{flags: ack, opts: []byte{header.TCPOptionSACK, 10, 0, 0, 0, 1, 0, 0, 0, 2}}), true, false},
		{"malformed option", tcpFrame(segment{flags: ack, opts: []byte{header.TCPOptionTS, 0}}), true, false},
		{"UDP", v4udp, false, false},
		{"fragment", fragment, false, false},
		{"truncated", tcpFrame(segment{flags: ack})[:40], false, false},
		{"ARP", append([]byte{12: 0x08, 13: 0x06}, make([]byte, 28)...), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := parseSegment(tc.frame)
			if ok != tc.ok || s.pureACK != tc.pure {
				t.Fatalf("parseSegment: ok %v pure %v, want %v %v", ok, s.pureACK, tc.ok, tc.pure)
			}
			if ok && tc.pure && s.ack != 7 && tc.name != "pure ACK with timestamps" {
				t.Errorf("ack %d, want 7", s.ack)
			}
		})
	}
}

// TestFilter plays a connection's outgoing segments through the filter
// and checks which are sent at once.
func TestFilter(t *testing.T) {
	ack, synAck, fin := header.TCPFlagAck, header.TCPFlagSyn|header.TCPFlagAck, header.TCPFlagAck|header.TCPFlagFin
	const mss = 1460
	type step struct {
		seg     segment
		send    bool // sent at once
		held    int  // ACKs held after it
		replace bool // it carries a held ACK
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"request answered", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 101}, false, 1, false},                                 // the request's ACK waits
			{segment{flags: ack | header.TCPFlagPsh, ack: 101, payload: 500}, true, 0, true}, // the answer carries it
		}},
		{"newer pure ACK replaces", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 101}, false, 1, false},
			{segment{flags: ack, ack: 201}, false, 1, false},
		}},
		{"bulk data acknowledged at once", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 1 + mss}, false, 1, false},
			{segment{flags: ack, ack: 1 + 3*mss}, true, 0, true}, // three segments beyond the last sent
			{segment{flags: ack, ack: 1 + 4*mss}, false, 1, false},
		}},
		{"duplicate ACK at once", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 1}, true, 0, false},
		}},
		{"unknown connection at once", []step{
			{segment{flags: ack, ack: 500}, true, 0, false},
			{segment{flags: ack, ack: 600}, false, 1, false},
		}},
		{"SACK at once", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 50, opts: []byte{header.TCPOptionSACK, 10, 0, 0, 0, 90, 0, 0, 0, 99}}, true, 0, false},
		}},
		{"FIN carries the ACK, and after it ACKs go at once", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 101}, false, 1, false},
			{segment{flags: fin, ack: 101}, true, 0, true},
			{segment{flags: ack, ack: 102}, true, 0, false},
		}},
		{"connections apart", []step{
			{segment{flags: synAck, ack: 1}, true, 0, false},
			{segment{srcPort: 2, flags: synAck, ack: 1}, true, 0, false},
			{segment{flags: ack, ack: 101}, false, 1, false},
			{segment{srcPort: 2, flags: ack, ack: 101}, false, 2, false},
			{segment{srcPort: 2, flags: ack, ack: 101, payload: 10}, true, 1, true},
			{segment{v6: true, flags: synAck, ack: 1}, true, 1, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New(1500, func() {})
			defer f.Stop()
			for i, st := range tc.steps {
				replaced := f.replaced.Load()
				if got := f.Pass(tcpFrame(st.seg), 0); got != st.send {
					t.Fatalf("step %d: sent at once %v, want %v", i, got, st.send)
				}
				if len(f.held) != st.held {
					t.Fatalf("step %d: %d ACKs held, want %d", i, len(f.held), st.held)
				}
				if got := f.replaced.Load() > replaced; got != st.replace {
					t.Fatalf("step %d: carried a held ACK %v, want %v", i, got, st.replace)
				}
			}
		})
	}
}

// TestFilterFlush: a held ACK that nothing carries goes out as it was,
// after the delay, and counts as sent.
func TestFilterFlush(t *testing.T) {
	flushed := make(chan struct{}, 1)
	f := New(1500, func() { flushed <- struct{}{} })
	defer f.Stop()
	f.Pass(tcpFrame(segment{flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1}), 0)
	vnet := make([]byte, netdev.VnetHdrLen)
	held := append(vnet, tcpFrame(segment{flags: header.TCPFlagAck, ack: 101, opts: timestamps})...)
	if f.Pass(held, netdev.VnetHdrLen) {
		t.Fatal("the ACK was sent at once")
	}
	start := time.Now()
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
		t.Fatal("no flush")
	}
	if d := time.Since(start); d < Delay/2 {
		t.Errorf("flushed after %v", d)
	}
	frames := f.Take(nil)
	if len(frames) != 1 || !bytes.Equal(frames[0], held) {
		t.Fatalf("flushed %x, want %x", frames, held)
	}
	if len(f.held) != 0 || f.armed {
		t.Fatal("still held")
	}
	// Sent: the same acknowledgement again is a duplicate, sent at once.
	if !f.Pass(held, netdev.VnetHdrLen) {
		t.Error("a duplicate of the flushed ACK was held")
	}
}

// TestFilterForgets: beyond ackFlows connections the filter starts
// over rather than grow.
func TestFilterForgets(t *testing.T) {
	f := New(1500, func() {})
	defer f.Stop()
	for i := range ackFlows + 10 {
		f.Pass(tcpFrame(segment{srcPort: uint16(i), flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1}), 0)
	}
	if n := len(f.lastSent); n > ackFlows {
		t.Fatalf("%d connections remembered", n)
	}
}

func FuzzParseSegment(f *testing.F) {
	f.Add(tcpFrame(segment{flags: header.TCPFlagAck, opts: timestamps}))
	f.Add(tcpFrame(segment{v6: true, flags: header.TCPFlagAck, payload: 3}))
	f.Add(tcpFrame(segment{flags: header.TCPFlagAck, opts: []byte{header.TCPOptionSACK, 10, 0, 0, 0, 1, 0, 0, 0, 2}}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		s, ok := parseSegment(frame)
		if !ok && s.pureACK {
			t.Fatal("pure ACK in a frame that is no segment")
		}
		fl := New(1500, func() {})
		defer fl.Stop()
		fl.Pass(frame, 0)
		fl.Pass(frame, 0)
	})
}
