// Command nic checks a network device attached as "service" with raw
// Ethernet frames, as Solo5's test_net does: it answers ARP and ICMP echo
// for its address (-ip), so the host can ping it through a TAP; with
// -ping it pings another host itself (another unikernel on a bridge) and
// checks the replies.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

//morgana:net service

var be = binary.BigEndian

func main() {
	ipFlag := flag.String("ip", "10.0.0.2", "this unikernel's IPv4 address")
	ping := flag.String("ping", "", "ping this address -count times, then exit")
	count := flag.Int("count", 5, "echo requests to send with -ping")
	flag.Parse()
	ip := netip.MustParseAddr(*ipFlag)

	d, err := netdev.Open("service")
	if err != nil {
		check.Failf("open: %v", err)
		check.Done()
	}
	check.That(len(d.MAC()) == 6 && d.MTU() >= 576, "device %s: MAC %s, MTU %d", d.Name(), d.MAC(), d.MTU())
	r := &responder{d: d, ip: ip, replies: make(chan uint16, 64), arp: make(chan net.HardwareAddr, 4)}
	go r.serve()
	if *ping == "" {
		fmt.Println("serving")
		select {}
	}
	r.ping(netip.MustParseAddr(*ping), *count)
	check.Done()
}

type responder struct {
	d       netdev.Device
	ip      netip.Addr
	replies chan uint16           // sequence numbers of echo replies to us
	arp     chan net.HardwareAddr // ARP replies to us
}

// serve answers ARP requests and echo requests for r.ip, and passes
// replies addressed to it on.
func (r *responder) serve() {
	frames := make([][]byte, 16)
	sizes := make([]int, len(frames))
	for i := range frames {
		frames[i] = make([]byte, r.d.FrameLen())
	}
	for {
		n, err := r.d.Read(frames, sizes)
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
		var out [][]byte
		for i := 0; i < n; i++ {
			f := frames[i][:sizes[i]]
			if r.d.Vnet() { // a virtio-net header first: nothing here is offloaded
				f = f[min(len(f), netdev.VnetHdrLen):]
			}
			if reply := r.handle(f); reply != nil {
				out = append(out, reply)
			}
		}
		if len(out) > 0 {
			if err := r.write(out...); err != nil {
				fmt.Fprintln(os.Stderr, "write:", err)
			}
		}
	}
}

// write sends frames, each behind an empty virtio-net header when the
// device wants one.
func (r *responder) write(frames ...[]byte) error {
	if r.d.Vnet() {
		for i, f := range frames {
			frames[i] = append(make([]byte, netdev.VnetHdrLen, netdev.VnetHdrLen+len(f)), f...)
		}
	}
	_, err := r.d.Write(frames)
	return err
}

func (r *responder) handle(f []byte) []byte {
	if len(f) < 14 {
		return nil
	}
	switch be.Uint16(f[12:]) {
	case 0x0806: // ARP
		if len(f) < 42 || be.Uint16(f[14:]) != 1 || be.Uint16(f[16:]) != 0x0800 {
			return nil
		}
		op, target := be.Uint16(f[20:]), netip.AddrFrom4([4]byte(f[38:42]))
		if target != r.ip {
			return nil
		}
		if op == 2 {
			r.arp <- net.HardwareAddr(bytes.Clone(f[22:28]))
			return nil
		}
		if op != 1 {
			return nil
		}
		return arpFrame(2, r.d.MAC(), r.ip, net.HardwareAddr(f[22:28]), netip.AddrFrom4([4]byte(f[28:32])))
	case 0x0800: // IPv4
		ipv4 := f[14:]
		if len(ipv4) < 20 || ipv4[0]>>4 != 4 || ipv4[9] != 1 {
			return nil
		}
		ihl := int(ipv4[0]&15) * 4
		total := int(be.Uint16(ipv4[2:]))
		if ihl < 20 || total < ihl+8 || total > len(ipv4) || netip.AddrFrom4([4]byte(ipv4[16:20])) != r.ip {
			return nil
		}
		icmp := ipv4[ihl:total]
		switch icmp[0] {
		case 0: // echo reply
			select {
			case r.replies <- be.Uint16(icmp[6:]):
			default:
			}
			return nil
		case 8: // echo request: answer with the same identifier, sequence and data
			reply := make([]byte, 14+total)
			copy(reply[0:6], f[6:12])
			copy(reply[6:12], r.d.MAC())
			be.PutUint16(reply[12:], 0x0800)
			ip := reply[14:]
			copy(ip, ipv4[:total])
			copy(ip[12:16], ipv4[16:20])
			copy(ip[16:20], ipv4[12:16])
			ip[8] = 64
			be.PutUint16(ip[10:], 0)
			be.PutUint16(ip[10:], checksum(ip[:ihl]))
			ic := ip[ihl:]
			ic[0] = 0
			be.PutUint16(ic[2:], 0)
			be.PutUint16(ic[2:], checksum(ic))
			return reply
		}
	}
	return nil
}

// ping resolves dst with ARP, then sends count echo requests and checks
// that each is answered.
func (r *responder) ping(dst netip.Addr, count int) {
	var mac net.HardwareAddr
	for try := 0; try < 20 && mac == nil; try++ {
		r.write(arpFrame(1, r.d.MAC(), r.ip, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, dst))
		select {
		case mac = <-r.arp:
		case <-time.After(250 * time.Millisecond):
		}
	}
	if mac == nil {
		check.Failf("no ARP reply from %s", dst)
		return
	}
	check.Okf("%s is at %s", dst, mac)
	got := 0
	for seq := 1; seq <= count; seq++ {
		r.write(echoRequest(r.d.MAC(), mac, r.ip, dst, uint16(seq)))
		select {
		case s := <-r.replies:
			if int(s) == seq {
				got++
			}
		case <-time.After(2 * time.Second):
		}
	}
	check.That(got == count, "%d of %d echo requests to %s answered", got, count, dst)
}

func arpFrame(op uint16, srcMAC net.HardwareAddr, src netip.Addr, dstMAC net.HardwareAddr, dst netip.Addr) []byte {
	f := make([]byte, 42)
	copy(f[0:6], dstMAC)
	copy(f[6:12], srcMAC)
	be.PutUint16(f[12:], 0x0806)
	be.PutUint16(f[14:], 1)
	be.PutUint16(f[16:], 0x0800)
	f[18], f[19] = 6, 4
	be.PutUint16(f[20:], op)
	copy(f[22:28], srcMAC)
	s4, d4 := src.As4(), dst.As4()
	copy(f[28:32], s4[:])
	if op == 2 {
		copy(f[32:38], dstMAC)
	}
	copy(f[38:42], d4[:])
	return f
}

func echoRequest(srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, seq uint16) []byte {
	payload := []byte("morgana nic test payload")
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], dstMAC)
	copy(f[6:12], srcMAC)
	be.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(len(ip)))
	ip[8], ip[9] = 64, 1
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	be.PutUint16(ip[10:], checksum(ip[:20]))
	ic := ip[20:]
	ic[0] = 8
	be.PutUint16(ic[4:], 0x4d47)
	be.PutUint16(ic[6:], seq)
	copy(ic[8:], payload)
	be.PutUint16(ic[2:], checksum(ic))
	return f
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(be.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
