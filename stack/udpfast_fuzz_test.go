package stack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/morgana-os/morgana/netdev"
)

// FuzzUDPFastFrames feeds arbitrary frames, as the device reads them (with
// a virtio-net header on a device with offload), to the fast path's
// classifier on a stack with two fast sockets (udp4 :53, and 10.0.0.2:54).
// It must never panic, and whatever it queues must be a well-formed,
// checksummed IPv4 UDP datagram to one of those sockets, with the payload
// and sender the frame holds; whatever it passes on to gVisor must have
// left no trace.
//
//	go test ./stack -run '^$' -fuzz FuzzUDPFastFrames
func FuzzUDPFastFrames(f *testing.F) {
	type fixture struct {
		s     *Stack
		link  *linkEndpoint
		socks []*UDPConn
	}
	var fixtures [2]fixture
	for i, vnet := range []bool{false, true} {
		dev := newMemDevice(macB, vnet)
		s := newStack(f, Config{NICs: []NICConfig{{Device: dev, IPv4: ip4Stack}}})
		fx := fixture{s: s, link: s.nics[0].link}
		for _, addr := range []string{":53", "10.0.0.2:54"} {
			pc, err := s.ListenPacket(ctxTimeout(f, time.Second), "udp4", addr)
			if err != nil {
				f.Fatal(err)
			}
			fx.socks = append(fx.socks, pc.(*UDPConn))
		}
		fixtures[i] = fx
	}
	f.Add(rawUDP{srcMAC: macA, dstMAC: macB, src: ip4Raw.Addr(), dst: ip4Stack.Addr(),
		srcPort: 1234, dstPort: 53, payload: []byte("seed")}.frame(), false)

	buf := make([]byte, 1<<16)
	f.Fuzz(func(t *testing.T, frame []byte, vnet bool) {
		fx := fixtures[0]
		if vnet {
			fx = fixtures[1]
		}
		before := fx.s.FastPathStats()
		took := fx.link.takeUDP(frame, monoNow())
		d := diffStats(fx.s.FastPathStats(), before)

		var queued []int // the sockets' indexes
		var payload []byte
		var from netip.AddrPort
		for i, c := range fx.socks {
			for {
				n, fr, ok := c.fast.q.pop(buf)
				if !ok {
					break
				}
				queued = append(queued, i)
				payload, from = append([]byte(nil), buf[:n]...), fr
			}
		}
		switch {
		case !took && (d != FastPathStats{} || len(queued) > 0):
			t.Fatalf("passed on to gVisor, yet %+v, queued to %v", d, queued)
		case took && d.Received+d.QueueDrops+d.ChecksumErrors != 1:
			t.Fatalf("taken, yet %+v", d)
		case uint64(len(queued)) != d.Received:
			t.Fatalf("queued to %v, yet %+v", queued, d)
		}
		if len(queued) == 0 {
			return
		}

		// Check what was queued against the frame, read here as RFC 791
		// and RFC 768 say.
		trusted := false
		if vnet {
			h := netdev.DecodeVnetHdr(frame)
			trusted = h.Flags&(netdev.VnetDataValid|netdev.VnetNeedsCsum) != 0
			frame = frame[netdev.VnetHdrLen:]
		}
		ip := frame[14:]
		ihl, total := int(ip[0]&0xf)*4, int(binary.BigEndian.Uint16(ip[2:]))
		switch {
		case !bytes.Equal(frame[:6], macB) || frame[6]&1 != 0 || binary.BigEndian.Uint16(frame[12:]) != 0x0800:
			t.Fatalf("Ethernet header % x", frame[:14])
		case ip[0] != 0x45 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 || ip[9] != 17:
			t.Fatalf("IP header % x: not IPv4 UDP without options, unfragmented", ip[:20])
		case total < 28 || total > len(ip) || onesSum(ip[:ihl], 0) != 0xffff:
			t.Fatalf("IP header % x: bad length or checksum (%d bytes)", ip[:20], len(ip))
		case netip.AddrFrom4([4]byte(ip[16:20])) != ip4Stack.Addr():
			t.Fatalf("to %v", netip.AddrFrom4([4]byte(ip[16:20])))
		}
		udp := ip[20:total]
		n := int(binary.BigEndian.Uint16(udp[4:]))
		if n < 8 || n > len(udp) {
			t.Fatalf("UDP length %d of %d bytes", n, len(udp))
		}
		udp = udp[:n]
		src := [4]byte(ip[12:16])
		if sum := binary.BigEndian.Uint16(udp[6:]); !trusted && sum != 0 && onesSum(udp, pseudoSum(src, [4]byte(ip[16:20]), n)) != 0xffff {
			t.Fatalf("bad UDP checksum %#04x", sum)
		}
		port := binary.BigEndian.Uint16(udp[2:])
		if want := map[uint16]int{53: 0, 54: 1}; len(queued) != 1 || want[port] != queued[0] || (port != 53 && port != 54) {
			t.Fatalf("to port %d, queued to %v", port, queued)
		}
		if !bytes.Equal(payload, udp[8:]) {
			t.Fatalf("payload %q, want %q", payload, udp[8:])
		}
		if want := netip.AddrPortFrom(netip.AddrFrom4(src), binary.BigEndian.Uint16(udp[0:])); from != want {
			t.Fatalf("from %v, want %v", from, want)
		}
		// The sender is now a peer: answers go back to its MAC, from the
		// address it wrote to.
		local, mac, _, ok := fx.socks[queued[0]].fast.peers.lookup(src, monoNow())
		if !ok || local != ip4Stack.Addr().As4() || !bytes.Equal(mac[:], frame[6:12]) {
			t.Fatalf("peer %v: %v %v %x", netip.AddrFrom4(src), ok, local, mac)
		}
	})
}

// FuzzUDPFastEncode encodes datagrams and reads them back: the frame
// must parse as what was encoded, with both checksums right.
func FuzzUDPFastEncode(f *testing.F) {
	f.Add([]byte("answer"), uint16(53), uint16(40000), uint32(0x0a000001))
	f.Add([]byte{}, uint16(1), uint16(65535), uint32(0xc0000207))
	f.Add(bytes.Repeat([]byte{0xff}, 1472), uint16(0xffff), uint16(0), uint32(0xffffffff))
	buf := make([]byte, 1<<16)
	f.Fuzz(func(t *testing.T, payload []byte, srcPort, dstPort uint16, dst uint32) {
		if len(payload) > 1<<15 {
			return
		}
		o := udp4Out{dstMAC: [6]byte(macA), src: ip4Stack.Addr().As4(), srcPort: srcPort, dstPort: dstPort, payload: payload}
		binary.BigEndian.PutUint32(o.dst[:], dst)
		n := encodeUDP4(buf, tcpipMAC(macB), &o)
		frame := buf[:n]
		// Received by the peer: swap the MACs so that it is to macA's.
		var d udp4Datagram
		if !parseUDP4(frame, tcpipMAC(macA), &d) {
			if o.dstMAC[0]&1 == 0 {
				t.Fatalf("the frame does not parse: % x", frame[:udp4HeadersLen])
			}
			return
		}
		if d.src != o.src || d.dst != o.dst || d.srcPort != srcPort || d.dstPort != dstPort ||
			!bytes.Equal(d.udp.Payload(), payload) || [6]byte(d.srcMAC) != [6]byte(macB) {
			t.Fatalf("parsed %+v, encoded %+v", d, o)
		}
		if !d.checksumsValid(false) || d.udp.Checksum() == 0 {
			t.Fatal("bad checksums")
		}
		if onesSum(frame[14:34], 0) != 0xffff || frame[14+6] != 0x40 || frame[14+8] != 64 {
			t.Fatalf("IP header % x", frame[14:34])
		}
	})
}

func tcpipMAC(m []byte) tcpip.LinkAddress { return tcpip.LinkAddress(m) }
