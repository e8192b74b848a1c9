package usernet

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// frame builds an Ethernet frame from the guest to the gateway carrying
// an IP packet (src and dst of one family) with transport payload t of
// protocol proto, checksums filled in.
func frame(proto tcpip.TransportProtocolNumber, src, dst netip.Addr, t []byte) []byte {
	var b []byte
	if src.Is4() {
		b = make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+len(t))
		header.IPv4(b[header.EthernetMinimumSize:]).Encode(&header.IPv4Fields{
			TotalLength: uint16(header.IPv4MinimumSize + len(t)), TTL: 64, Protocol: uint8(proto),
			SrcAddr: tcpipAddr(src), DstAddr: tcpipAddr(dst),
		})
		copy(b[header.EthernetMinimumSize+header.IPv4MinimumSize:], t)
	} else {
		b = make([]byte, header.EthernetMinimumSize+header.IPv6MinimumSize+len(t))
		header.IPv6(b[header.EthernetMinimumSize:]).Encode(&header.IPv6Fields{
			PayloadLength: uint16(len(t)), TransportProtocol: proto, HopLimit: 255,
			SrcAddr: tcpipAddr(src), DstAddr: tcpipAddr(dst),
		})
		copy(b[header.EthernetMinimumSize+header.IPv6MinimumSize:], t)
	}
	typ := header.IPv4ProtocolNumber
	if src.Is6() {
		typ = header.IPv6ProtocolNumber
	}
	header.Ethernet(b).Encode(&header.EthernetFields{SrcAddr: tcpip.LinkAddress(GuestMAC), DstAddr: tcpip.LinkAddress(GatewayMAC), Type: typ})
	fixChecksums(b)
	return b
}

// fixChecksums recomputes the IP and transport checksums of an Ethernet
// frame as far as its headers allow, so that a mutated frame gets past the
// checksum checks to the parsers behind them.
func fixChecksums(f []byte) {
	if len(f) < header.EthernetMinimumSize {
		return
	}
	p := f[header.EthernetMinimumSize:]
	var src, dst tcpip.Address
	var proto tcpip.TransportProtocolNumber
	var t []byte
	switch header.Ethernet(f).Type() {
	case header.IPv4ProtocolNumber:
		ihl := 0
		if len(p) >= header.IPv4MinimumSize {
			ihl = int(p[0]&0xf) * 4
		}
		if ihl < header.IPv4MinimumSize || ihl > len(p) {
			return
		}
		ip := header.IPv4(p)
		ip.SetChecksum(0)
		ip.SetChecksum(^checksum.Checksum(p[:ihl], 0))
		end := min(max(int(ip.TotalLength()), ihl), len(p))
		src, dst, proto, t = ip.SourceAddress(), ip.DestinationAddress(), ip.TransportProtocol(), p[ihl:end]
	case header.IPv6ProtocolNumber:
		if len(p) < header.IPv6MinimumSize {
			return
		}
		ip := header.IPv6(p)
		end := min(header.IPv6MinimumSize+int(ip.PayloadLength()), len(p))
		src, dst, proto, t = ip.SourceAddress(), ip.DestinationAddress(), ip.TransportProtocol(), p[header.IPv6MinimumSize:end]
	default:
		return
	}
	off, pseudo := 0, true
	switch proto {
	case header.TCPProtocolNumber:
		off = 16
	case header.UDPProtocolNumber:
		off = 6
	case header.ICMPv4ProtocolNumber:
		off, pseudo = 2, false
	case header.ICMPv6ProtocolNumber:
		off = 2
	default:
		return
	}
	if len(t) < off+2 {
		return
	}
	binary.BigEndian.PutUint16(t[off:], 0)
	var xsum uint16
	if pseudo {
		xsum = header.PseudoHeaderChecksum(proto, src, dst, uint16(len(t)))
	}
	binary.BigEndian.PutUint16(t[off:], ^checksum.Checksum(t, xsum))
}

// templates are well-formed frames of the kinds the gateway parses, for
// garbage to be made from.
func templates(t *testing.T) [][]byte {
	syn := make([]byte, header.TCPMinimumSize+12)
	header.TCP(syn).Encode(&header.TCPFields{SrcPort: 40000, DstPort: 80, SeqNum: 1, DataOffset: uint8(len(syn)), Flags: header.TCPFlagSyn, WindowSize: 65535})
	copy(syn[header.TCPMinimumSize:], []byte{2, 4, 5, 0xb4, 4, 2, 3, 3, 7, 1, 1, 0}) // MSS, SACK ok, window scale
	udp := func(dport uint16, payload []byte) []byte {
		b := make([]byte, header.UDPMinimumSize+len(payload))
		header.UDP(b).Encode(&header.UDPFields{SrcPort: 40000, DstPort: dport, Length: uint16(len(b))})
		copy(b[header.UDPMinimumSize:], payload)
		return b
	}
	echo := make([]byte, header.ICMPv4MinimumSize+8)
	header.ICMPv4(echo).SetType(header.ICMPv4Echo)
	ns := make([]byte, header.ICMPv6NeighborSolicitMinimumSize+8)
	header.ICMPv6(ns).SetType(header.ICMPv6NeighborSolicit)
	copy(ns[8:], Gateway6.AsSlice())
	ns[24], ns[25] = 1, 1 // source link-layer address option
	copy(ns[26:], GuestMAC)
	discover, err := dhcpv4.NewDiscovery(GuestMAC)
	if err != nil {
		t.Fatal(err)
	}
	arp := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.Ethernet(arp).Encode(&header.EthernetFields{SrcAddr: tcpip.LinkAddress(GuestMAC), DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber})
	a := header.ARP(arp[header.EthernetMinimumSize:])
	a.SetIPv4OverEthernet()
	a.SetOp(header.ARPRequest)
	copy(a.HardwareAddressSender(), GuestMAC)
	copy(a.ProtocolAddressSender(), Guest4.AsSlice())
	copy(a.ProtocolAddressTarget(), Gateway4.AsSlice())

	return [][]byte{
		arp,
		frame(header.TCPProtocolNumber, Guest4, Gateway4, syn),
		frame(header.TCPProtocolNumber, Guest6, Gateway6, syn),
		frame(header.UDPProtocolNumber, Guest4, Gateway4, udp(dhcpServerPort, discover.ToBytes())),
		frame(header.UDPProtocolNumber, Guest4, DNS4, udp(53, []byte("not a DNS query"))),
		frame(header.ICMPv4ProtocolNumber, Guest4, Gateway4, echo),
		frame(header.ICMPv6ProtocolNumber, Guest6, Gateway6, ns),
	}
}

// garbage returns a frame of one of these kinds: random bytes of any
// length; a template with bytes changed, then its checksums fixed or not;
// a template cut short.
func garbage(r *rand.Rand, tmpl [][]byte, mtu int) []byte {
	switch r.IntN(4) {
	case 0:
		b := make([]byte, r.IntN(mtu+header.EthernetMinimumSize+100))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 1:
		t := tmpl[r.IntN(len(tmpl))]
		return append([]byte(nil), t[:r.IntN(len(t))]...)
	default:
		b := append([]byte(nil), tmpl[r.IntN(len(tmpl))]...)
		for range 1 + r.IntN(6) {
			// Leave the Ethernet header, mostly, to reach the parsers.
			i := r.IntN(len(b))
			if i < header.EthernetMinimumSize && r.IntN(4) != 0 {
				continue
			}
			b[i] = byte(r.Uint32())
		}
		if r.IntN(2) == 0 {
			fixChecksums(b)
		}
		return b
	}
}

// TestGarbageFrames writes thousands of malformed frames on the link
// while the guest's stack uses it: the monitor neither crashes nor stops
// serving, and counts what it dropped. Outbound stays off: mutated frames
// must not become connections to whatever the bytes say. The guest's MAC
// is pinned, as morgana run pins it: otherwise a mutated ARP request that
// claims another MAC for the guest diverts its traffic, rightly, until the
// gateway probes again.
func TestGarbageFrames(t *testing.T) {
	n, g := startPair(t, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 80)}, GuestMAC: GuestMAC, Log: discardLog()})
	ln := g.listenTCP(t, 80)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "still here") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	get := func() error {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + hostAddr(n, 0))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "still here" {
			err = fmt.Errorf("body %q", b)
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before: %v", err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	tmpl := templates(t)
	fd := g.fd()
	const frames = 20000
	done := make(chan error, 1)
	go func() { // requests in the middle of the garbage
		var err error
		for range 5 {
			if err = get(); err != nil {
				break
			}
		}
		done <- err
	}()
	for range frames {
		b := garbage(r, tmpl, n.cfg.MTU)
		for {
			_, err := unix.Write(fd, b)
			if err == unix.EAGAIN || err == unix.EINTR {
				time.Sleep(time.Millisecond)
				continue
			}
			break // too long for the socket, or written
		}
	}
	if err := <-done; err != nil {
		t.Errorf("during: %v", err)
	}
	if err := get(); err != nil {
		t.Errorf("after: %v", err)
	}
	st := n.Stats()
	t.Logf("%+v", st)
	if st.DroppedIn == 0 {
		t.Errorf("no frame dropped: %+v", st)
	}
}

// TestGuestNotReading: when the guest stops reading, frames for it are
// dropped once the socket and the queue are full, and the monitor's
// memory stays bounded.
func TestGuestNotReading(t *testing.T) {
	n, r := startRaw(t, Config{Forwards: []Forward{udpFwd("127.0.0.1:0", 9)}, Log: discardLog()})
	// An ARP request for the gateway teaches it the guest's MAC.
	for _, f := range templates(t)[:1] {
		r.send(t, f)
	}
	r.recv(t, func(f []byte) bool { return header.Ethernet(f).Type() == header.ARPProtocolNumber })

	c, err := net.Dial("udp", hostAddr(n, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	payload := make([]byte, 1400)
	deadline := time.Now().Add(20 * time.Second)
	sent := 0
	for n.Stats().DroppedOut == 0 || sent < 30000 {
		if time.Now().After(deadline) {
			t.Fatalf("no frame dropped after %d datagrams: %+v", sent, n.Stats())
		}
		c.Write(payload)
		sent++
		if sent%1000 == 0 {
			time.Sleep(time.Millisecond) // let the monitor's socket keep up
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d datagrams (%d MiB) sent; %+v; heap grew %d KiB", sent, sent*len(payload)>>20, n.Stats(), grew>>10)
	if grew > 32<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
}

// TestAdmit pins which requests the gateway answers for itself only.
func TestAdmit(t *testing.T) {
	tmpl := templates(t)
	arpFor := func(target netip.Addr) []byte {
		b := append([]byte(nil), tmpl[0]...)
		copy(header.ARP(b[header.EthernetMinimumSize:]).ProtocolAddressTarget(), target.AsSlice())
		return b
	}
	echo := make([]byte, header.ICMPv4MinimumSize)
	header.ICMPv4(echo).SetType(header.ICMPv4Echo)
	echo6 := make([]byte, header.ICMPv6EchoMinimumSize)
	header.ICMPv6(echo6).SetType(header.ICMPv6EchoRequest)
	nsFor := func(target netip.Addr) []byte {
		ns := make([]byte, header.ICMPv6NeighborSolicitMinimumSize)
		header.ICMPv6(ns).SetType(header.ICMPv6NeighborSolicit)
		copy(ns[8:], target.AsSlice())
		return frame(header.ICMPv6ProtocolNumber, Guest6, netip.MustParseAddr("ff02::1:ff00:2"), ns)
	}
	other4, other6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for _, tt := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"ARP for the gateway", arpFor(Gateway4), true},
		{"ARP for DNS", arpFor(DNS4), true},
		{"ARP for the guest itself", arpFor(Guest4), false},
		{"ARP for another host", arpFor(netip.MustParseAddr("10.0.2.99")), false},
		{"ARP cut short", tmpl[0][:header.EthernetMinimumSize+10], false},
		{"ping the gateway", frame(header.ICMPv4ProtocolNumber, Guest4, Gateway4, echo), true},
		{"ping beyond", frame(header.ICMPv4ProtocolNumber, Guest4, other4, echo), false},
		{"ping6 the gateway", frame(header.ICMPv6ProtocolNumber, Guest6, Gateway6, echo6), true},
		{"ping6 beyond", frame(header.ICMPv6ProtocolNumber, Guest6, other6, echo6), false},
		{"solicit the gateway", nsFor(Gateway6), true},
		{"solicit DNS", nsFor(DNS6), true},
		{"solicit another", nsFor(Guest6), false},
		{"solicit cut short", nsFor(Gateway6)[:header.EthernetMinimumSize+header.IPv6MinimumSize+10], false},
		{"TCP anywhere", tmpl[1], true},
		{"IPv4 cut short", tmpl[1][:header.EthernetMinimumSize+10], false},
		{"unknown EtherType", append(append([]byte(nil), tmpl[1][:12]...), 0x88, 0xb5), true},
	} {
		if got := admit(tt.frame); got != tt.want {
			t.Errorf("%s: admit = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzAdmit(f *testing.F) {
	f.Add(make([]byte, header.EthernetMinimumSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < header.EthernetMinimumSize {
			return // the link drops these before admit
		}
		admit(b)
	})
}
