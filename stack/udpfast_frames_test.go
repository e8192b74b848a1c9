package stack

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// Frames by hand, for the tests of the UDP fast path: built byte by byte
// here rather than with the code under test, so that they can be wrong in
// every way a test needs.

// rawUDP describes an Ethernet/IPv4/UDP frame.
type rawUDP struct {
	srcMAC, dstMAC   net.HardwareAddr
	src, dst         netip.Addr
	srcPort, dstPort uint16
	payload          []byte

	options    []byte // IP options, a multiple of 4 bytes
	flags      byte   // IP flags: 0b010 DF, 0b001 MF
	fragOffset uint16 // in 8-byte units
	id         uint16
	noCsum     bool // UDP checksum 0
	badIPCsum  bool
	badUDPCsum bool
	udpLen     int // the UDP length field, if not 0
	ipExtra    int // bytes after the UDP datagram within the IP packet
	pad        int // bytes after the IP packet within the frame
}

// frame returns the frame; with vnet, a virtio-net header is in front.
func (r rawUDP) frame() []byte {
	ipHdr := 20 + len(r.options)
	udpLen := 8 + len(r.payload)
	ipLen := ipHdr + udpLen + r.ipExtra
	f := make([]byte, 14+ipLen+r.pad)
	copy(f[0:], r.dstMAC)
	copy(f[6:], r.srcMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14 : 14+ipLen]
	ip[0] = 0x40 | byte(ipHdr/4)
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	binary.BigEndian.PutUint16(ip[4:], r.id)
	binary.BigEndian.PutUint16(ip[6:], uint16(r.flags)<<13|r.fragOffset)
	ip[8] = 64
	ip[9] = 17
	src, dst := r.src.As4(), r.dst.As4()
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	copy(ip[20:], r.options)
	sum := ^onesSum(ip[:ipHdr], 0)
	if r.badIPCsum {
		sum ^= 0x0101
	}
	binary.BigEndian.PutUint16(ip[10:], sum)

	u := ip[ipHdr : ipHdr+udpLen]
	binary.BigEndian.PutUint16(u[0:], r.srcPort)
	binary.BigEndian.PutUint16(u[2:], r.dstPort)
	binary.BigEndian.PutUint16(u[4:], uint16(udpLen))
	copy(u[8:], r.payload)
	if !r.noCsum {
		sum := ^onesSum(u, pseudoSum(src, dst, udpLen))
		if sum == 0 {
			sum = 0xffff
		}
		if r.badUDPCsum {
			if sum ^= 0x5a5a; sum == 0 {
				sum = 0x1234 // not "no checksum"
			}
		}
		binary.BigEndian.PutUint16(u[6:], sum)
	}
	if r.udpLen != 0 {
		binary.BigEndian.PutUint16(u[4:], uint16(r.udpLen))
	}
	for i := range r.ipExtra {
		ip[ipHdr+udpLen+i] = 0xee
	}
	return f
}

// onesSum is the ones' complement sum of b (RFC 1071), added to sum.
func onesSum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func pseudoSum(src, dst [4]byte, udpLen int) uint32 {
	return uint32(onesSum(src[:], 0)) + uint32(onesSum(dst[:], 0)) + 17 + uint32(udpLen)
}

// fragment cuts the IP packet of an unfragmented frame into two fragments
// at byte at of its payload (a multiple of 8), as frames.
func fragment(frame []byte, at int) [2][]byte {
	ip := frame[14:]
	hdr := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	var out [2][]byte
	for i, part := range [][2]int{{hdr, hdr + at}, {hdr + at, total}} {
		f := make([]byte, 14+hdr+part[1]-part[0])
		copy(f, frame[:14+hdr])
		copy(f[14+hdr:], ip[part[0]:part[1]])
		h := f[14:]
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)))
		var fl uint16 = 1 << 13 // MF
		if i == 1 {
			fl = 0
		}
		binary.BigEndian.PutUint16(h[6:], fl|uint16((part[0]-hdr)/8))
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], ^onesSum(h[:hdr], 0))
		out[i] = f
	}
	return out
}

// rawPeer is the far end of a pipe whose near end is a stack's NIC: the
// test writes frames by hand and reads what the stack sends. It answers
// ARP for its address, as a host would.
type rawPeer struct {
	dev  netdev.Device
	vnet bool
	mac  net.HardwareAddr
	ip   netip.Addr
	out  chan sent // the stack's frames but ARP
}

// sent is a frame the stack sent, and its virtio-net header.
type sent struct {
	hdr   netdev.VnetHdr
	frame []byte
}

// Addresses of rawPeerStack.
var (
	ip4Raw   = netip.MustParsePrefix("10.0.0.1/24")
	ip4Stack = netip.MustParsePrefix("10.0.0.2/24")
)

// rawPeerStack returns a stack (10.0.0.2/24, macB) over one end of a pipe
// and a rawPeer (10.0.0.1, macA) on the other.
func rawPeerStack(t testing.TB, vnet bool, cfg Config) (*Stack, *rawPeer) {
	t.Helper()
	pipe := netdevtest.Pipe
	if vnet {
		pipe = netdevtest.PipeVnet
	}
	devPeer, devStack := pipe(macA, macB, 1500)
	p := &rawPeer{dev: devPeer, vnet: vnet, mac: macA, ip: ip4Raw.Addr(), out: make(chan sent, 1024)}
	cfg.NICs = []NICConfig{{Device: devStack, IPv4: ip4Stack}}
	s := newStack(t, cfg)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.serve() }()
	t.Cleanup(func() { devPeer.Close(); wg.Wait() })
	return s, p
}

func (p *rawPeer) serve() {
	frames := [][]byte{make([]byte, p.dev.FrameLen())}
	sizes := []int{0}
	for {
		if _, err := p.dev.Read(frames, sizes); err != nil {
			return
		}
		f := append([]byte(nil), frames[0][:sizes[0]]...)
		var h netdev.VnetHdr
		if p.vnet {
			h = netdev.DecodeVnetHdr(f)
			f = f[netdev.VnetHdrLen:]
		}
		if len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 &&
			binary.BigEndian.Uint16(f[20:]) == 1 && netip.AddrFrom4([4]byte(f[38:42])) == p.ip {
			// An ARP request for us: reply.
			r := make([]byte, 42)
			copy(r[0:], f[6:12])
			copy(r[6:], p.mac)
			binary.BigEndian.PutUint16(r[12:], 0x0806)
			copy(r[14:20], f[14:20]) // hardware and protocol types and sizes
			binary.BigEndian.PutUint16(r[20:], 2)
			copy(r[22:], p.mac)
			ip := p.ip.As4()
			copy(r[28:], ip[:])
			copy(r[32:], f[22:32]) // the asker's MAC and IP
			p.write(r, netdev.VnetHdr{})
			continue
		}
		select {
		case p.out <- sent{h, f}:
		default:
		}
	}
}

// write sends frame to the stack, behind h on a device with offload.
func (p *rawPeer) write(frame []byte, h netdev.VnetHdr) {
	if p.vnet {
		b := make([]byte, netdev.VnetHdrLen+len(frame))
		h.Encode(b)
		copy(b[netdev.VnetHdrLen:], frame)
		frame = b
	}
	p.dev.Write([][]byte{frame})
}

// udp is a frame from the peer to the stack.
func (p *rawPeer) udp(dstPort uint16, payload string) rawUDP {
	return rawUDP{srcMAC: p.mac, dstMAC: macB, src: p.ip, dst: ip4Stack.Addr(),
		srcPort: 40000, dstPort: dstPort, payload: []byte(payload)}
}

// expectUDP waits for a UDP datagram from the stack and returns its frame.
func (p *rawPeer) expectUDP(t *testing.T) sent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case s := <-p.out:
			if len(s.frame) >= 42 && binary.BigEndian.Uint16(s.frame[12:]) == 0x0800 && s.frame[23] == 17 {
				return s
			}
		case <-timeout:
			t.Fatal("no UDP datagram from the stack")
		}
	}
}
