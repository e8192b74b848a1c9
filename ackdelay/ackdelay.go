// Package ackdelay delays TCP's pure ACKs on a link, so that the next
// segment of their connection carries them.
//
// gVisor's TCP acknowledges every batch of segments it receives at once,
// with a segment of its own: a request that the application answers a few
// microseconds later costs a pure ACK in front of the answer, which
// carries the same acknowledgement. Linux delays such an ACK (RFC 9293
// 3.8.6.3, up to 40 ms) so that the answer carries it; between a VM and
// its monitor the extra frame costs as much as the answer's (a send, the
// ring, the other side's receive), so an HTTP request and its answer cost
// three frames instead of two.
//
// A link that sends gVisor's frames keeps gVisor as it is and passes each
// outgoing frame through a Filter: a pure ACK (no data, no SYN, FIN or RST,
// no SACK blocks) that acknowledges new data, less than two full segments
// beyond the last ACK sent for its connection, is held for up to Delay.
// Any later segment of the same connection that carries an ACK carries a
// newer one (gVisor sends in order through one queue) and replaces it;
// otherwise the held ACK goes out when the delay ends. Duplicate ACKs,
// window updates for data already acknowledged and ACKs of bulk data go
// out at once, so loss recovery and a sender's ACK clock are unchanged.
package ackdelay

import (
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Delay is how long a pure ACK may wait for a segment to ride on: long
// enough for a busy server to answer (with 32 connections to one core an
// answer comes 1-2 ms after its request), far below the 200 ms peers
// allow for (RFC 9293) and Linux's 40 ms.
const Delay = 2 * time.Millisecond

// ackFlows bounds the connections whose last ACK the link remembers;
// beyond it the memory starts over, and a connection forgotten sends its
// next ACK at once.
const ackFlows = 4096

// flowKey names a connection by its addresses and ports, as the link sends.
type flowKey [2*16 + 4]byte

// heldACK is a pure ACK that waits for a segment to ride on.
type heldACK struct {
	ack   uint32
	frame []byte // the whole frame, a copy
}

// Filter holds pure ACKs back. It is not safe for concurrent use: the
// link calls it under the lock that orders its writes, and so does the
// flush function it is given.
type Filter struct {
	maxNew   uint32             // bytes acknowledged beyond the last ACK sent that make an ACK go at once
	lastSent map[flowKey]uint32 // the last acknowledgement number sent, per connection
	held     map[flowKey]*heldACK
	spare    []*heldACK
	timer    *time.Timer // flushes the held ACKs; armed while any are held
	armed    bool

	delayed, replaced atomic.Uint64 // ACKs held; of those, ACKs that a later segment carried
}

// New returns a filter for a link of the given MTU (its IP packets' size).
// It calls flush, on a goroutine of its own, once held ACKs have waited
// Delay: flush must then send what Take gives.
func New(mtu int, flush func()) *Filter {
	f := &Filter{
		maxNew:   uint32(2 * max(mtu-header.IPv4MinimumSize-header.TCPMinimumSize, 536)),
		lastSent: map[flowKey]uint32{},
		held:     map[flowKey]*heldACK{},
		timer:    time.AfterFunc(time.Hour, flush),
	}
	f.timer.Stop()
	return f
}

// tcpSegment is what the filter reads of an outgoing frame.
type tcpSegment struct {
	key     flowKey
	flags   header.TCPFlags
	ack     uint32
	pureACK bool // an ACK and nothing else: no data, no other flag, no SACK blocks
}

// PureACK reports whether an Ethernet frame carries a TCP segment that is
// an acknowledgement and nothing else: what a Filter may hold.
func PureACK(frame []byte) bool {
	s, ok := parseSegment(frame)
	return ok && s.pureACK
}

// parseSegment reads the TCP segment in an Ethernet frame, if it is one.
func parseSegment(frame []byte) (s tcpSegment, ok bool) {
	if len(frame) < header.EthernetMinimumSize {
		return s, false
	}
	var src, dst []byte
	var l4 []byte
	switch header.Ethernet(frame).Type() {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.TCPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
			return s, false
		}
		a, b := ip.SourceAddress(), ip.DestinationAddress()
		src, dst = a.AsSlice(), b.AsSlice()
		l4 = ip[ip.HeaderLength():ip.TotalLength()]
	case header.IPv6ProtocolNumber:
		ip := header.IPv6(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.TCPProtocolNumber {
			return s, false // extension headers included: sent as they are
		}
		a, b := ip.SourceAddress(), ip.DestinationAddress()
		src, dst = a.AsSlice(), b.AsSlice()
		l4 = ip[header.IPv6MinimumSize : header.IPv6MinimumSize+int(ip.PayloadLength())]
	default:
		return s, false
	}
	if len(l4) < header.TCPMinimumSize {
		return s, false
	}
	tcp := header.TCP(l4)
	off := int(tcp.DataOffset())
	if off < header.TCPMinimumSize || off > len(l4) {
		return s, false
	}
	copy(s.key[:16], src)
	copy(s.key[16:32], dst)
	copy(s.key[32:], l4[:4]) // both ports
	s.flags = tcp.Flags()
	s.ack = tcp.AckNumber()
	s.pureACK = s.flags == header.TCPFlagAck && off == len(l4) && !hasSACK(l4[header.TCPMinimumSize:off])
	return s, true
}

// hasSACK reports whether TCP options carry SACK blocks.
func hasSACK(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return false
		case header.TCPOptionNOP:
			i++
			continue
		case header.TCPOptionSACK:
			return true
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return true // malformed: send it as it is
		}
		i += int(opts[i+1])
	}
	return false
}

// Pass looks at an outgoing frame whose Ethernet header starts at off
// (after a device's virtio-net header, say). It returns false when it
// holds the frame (a copy), which must not be sent now.
func (f *Filter) Pass(frame []byte, off int) bool {
	s, ok := parseSegment(frame[off:])
	if !ok {
		return true
	}
	h := f.held[s.key]
	if s.pureACK {
		if last, known := f.lastSent[s.key]; known && s.ack != last && s.ack-last <= f.maxNew {
			if h == nil {
				h = f.newHeld()
				f.held[s.key] = h
			}
			h.ack = s.ack
			h.frame = append(h.frame[:0], frame...)
			f.delayed.Add(1)
			if !f.armed {
				f.armed = true
				f.timer.Reset(Delay)
			}
			return false
		}
	}
	if h != nil && s.flags.Contains(header.TCPFlagAck) {
		f.drop(s.key, h) // this segment carries a newer acknowledgement
		f.replaced.Add(1)
	}
	switch {
	case s.flags.Intersects(header.TCPFlagFin | header.TCPFlagRst):
		delete(f.lastSent, s.key) // the last ACKs of a connection go at once
	case s.flags.Contains(header.TCPFlagAck):
		f.sent(s.key, s.ack)
	}
	return true
}

// sent records the acknowledgement sent for a connection.
func (f *Filter) sent(k flowKey, ack uint32) {
	if _, ok := f.lastSent[k]; !ok && len(f.lastSent) >= ackFlows {
		clear(f.lastSent)
	}
	f.lastSent[k] = ack
}

func (f *Filter) newHeld() *heldACK {
	if n := len(f.spare); n > 0 {
		h := f.spare[n-1]
		f.spare = f.spare[:n-1]
		return h
	}
	return &heldACK{}
}

func (f *Filter) drop(k flowKey, h *heldACK) {
	delete(f.held, k)
	f.spare = append(f.spare, h)
}

// Take appends the held frames to frames, forgets them as held and
// records them as sent; the frames stay valid until the next call to Pass.
func (f *Filter) Take(frames [][]byte) [][]byte {
	for k, h := range f.held {
		frames = append(frames, h.frame)
		f.sent(k, h.ack)
		f.drop(k, h)
	}
	f.armed = false
	return frames
}

// Stop ends the timer, for a link that closes.
func (f *Filter) Stop() { f.timer.Stop() }

// Stats returns how many ACKs the filter held, and how many of those a
// later segment carried. Unlike the other methods it may be called at any
// time, without the link's lock (whose holder may wait for a full
// descriptor).
func (f *Filter) Stats() (held, carried uint64) { return f.delayed.Load(), f.replaced.Load() }
