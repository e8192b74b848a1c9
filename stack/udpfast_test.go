package stack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev"
)

// readUntil reads datagrams from c until one is marker, then whatever
// comes within a moment after it (the two paths' queues are read in
// turns, so an earlier datagram may come later), and returns the others.
func readUntil(t *testing.T, c *UDPConn, marker string) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 64<<10)
	seen := false
	for {
		wait := 5 * time.Second
		if seen {
			wait = 30 * time.Millisecond
		}
		c.SetReadDeadline(time.Now().Add(wait))
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if seen && errors.Is(err, os.ErrDeadlineExceeded) {
				c.SetReadDeadline(time.Time{})
				return got
			}
			t.Fatalf("waiting for %q: %v (got %q)", marker, err, got)
		}
		if string(buf[:n]) == marker {
			seen = true
			continue
		}
		got = append(got, string(buf[:n]))
	}
}

// TestUDPFastPathFrames sends frames by hand to a socket and checks which
// path delivered each, or that none did.
func TestUDPFastPathFrames(t *testing.T) {
	const (
		fast    = "fast"    // delivered by the fast path
		slow    = "slow"    // delivered through gVisor
		dropped = "dropped" // not delivered
	)
	multicastMAC := net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0xfb}
	cases := []struct {
		name    string
		vnet    bool
		hdr     netdev.VnetHdr
		mod     func(*rawUDP)
		frames  func(rawUDP) [][]byte // default: the frame
		want    string
		payload string // what the socket reads, if not the payload sent
		csumErr bool   // counted as a checksum error
	}{
		{name: "plain", want: fast},
		{name: "no UDP checksum", mod: func(r *rawUDP) { r.noCsum = true }, want: fast},
		{name: "DF and an ID", mod: func(r *rawUDP) { r.flags, r.id = 0b010, 4321 }, want: fast},
		{name: "Ethernet padding", mod: func(r *rawUDP) { r.pad = 20 }, want: fast},
		{name: "UDP shorter than IP's payload", mod: func(r *rawUDP) { r.ipExtra = 6 }, want: fast},
		{name: "empty", mod: func(r *rawUDP) { r.payload = nil }, want: fast},
		{name: "bad UDP checksum", mod: func(r *rawUDP) { r.badUDPCsum = true }, want: dropped, csumErr: true},
		{name: "bad IP checksum", mod: func(r *rawUDP) { r.badIPCsum = true }, want: dropped, csumErr: true},
		{name: "IP options", mod: func(r *rawUDP) { r.options = []byte{1, 1, 1, 0} }, want: slow},
		{name: "fragments", mod: func(r *rawUDP) { r.payload = bytes.Repeat([]byte("f"), 40) },
			frames: func(r rawUDP) [][]byte { f := fragment(r.frame(), 16); return f[:] }, want: slow},
		{name: "first fragment only", mod: func(r *rawUDP) { r.payload = bytes.Repeat([]byte("g"), 40) },
			frames: func(r rawUDP) [][]byte { return [][]byte{fragment(r.frame(), 16)[0]} }, want: dropped},
		{name: "UDP longer than IP's payload", mod: func(r *rawUDP) { r.udpLen = 8 + len(r.payload) + 4 }, want: dropped},
		{name: "UDP length below its header", mod: func(r *rawUDP) { r.udpLen = 4 }, want: dropped},
		{name: "broadcast MAC", mod: func(r *rawUDP) { r.dstMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }, want: slow},
		{name: "multicast source MAC", mod: func(r *rawUDP) { r.srcMAC = multicastMAC }, want: slow},
		{name: "to another address", mod: func(r *rawUDP) { r.dst = netip.MustParseAddr("10.0.0.3") }, want: dropped},
		{name: "to the subnet's broadcast", mod: func(r *rawUDP) { r.dst = netip.MustParseAddr("10.0.0.255") }, want: slow},
		{name: "to a multicast group", mod: func(r *rawUDP) {
			r.dstMAC, r.dst = multicastMAC, netip.MustParseAddr("224.0.0.251")
		}, want: dropped},
		{name: "from the stack's own address", mod: func(r *rawUDP) { r.src = ip4Stack.Addr() }, want: dropped},
		{name: "from the subnet's broadcast", mod: func(r *rawUDP) { r.src = netip.MustParseAddr("10.0.0.255") }, want: dropped},
		{name: "from a multicast address", mod: func(r *rawUDP) { r.src = netip.MustParseAddr("224.0.0.1") }, want: dropped},
		{name: "from loopback", mod: func(r *rawUDP) { r.src = netip.MustParseAddr("127.0.0.1") }, want: dropped},
		{name: "from 0.0.0.0", mod: func(r *rawUDP) { r.src = netip.IPv4Unspecified() }, want: slow},
		{name: "from port 0", mod: func(r *rawUDP) { r.srcPort = 0 }, want: slow},

		{name: "plain", vnet: true, want: fast},
		{name: "bad UDP checksum", vnet: true, mod: func(r *rawUDP) { r.badUDPCsum = true }, want: dropped, csumErr: true},
		{name: "data valid, bad UDP checksum", vnet: true, hdr: netdev.VnetHdr{Flags: netdev.VnetDataValid},
			mod: func(r *rawUDP) { r.badUDPCsum = true }, want: fast},
		{name: "data valid, bad IP checksum", vnet: true, hdr: netdev.VnetHdr{Flags: netdev.VnetDataValid},
			mod: func(r *rawUDP) { r.badIPCsum = true }, want: dropped, csumErr: true},
		{name: "needs checksum", vnet: true, hdr: netdev.VnetHdr{Flags: netdev.VnetNeedsCsum, CsumStart: 34, CsumOffset: 6},
			frames: func(r rawUDP) [][]byte { return [][]byte{partialChecksum(r)} }, want: fast},
		{name: "needs checksum elsewhere", vnet: true, hdr: netdev.VnetHdr{Flags: netdev.VnetNeedsCsum, CsumStart: 34, CsumOffset: 4},
			frames: func(r rawUDP) [][]byte { return [][]byte{partialChecksum(r)} }, want: dropped},
		{name: "GSO", vnet: true, hdr: netdev.VnetHdr{GSOType: netdev.VnetGSOUDP, GSOSize: 1000}, want: slow},
	}
	for _, vnet := range []bool{false, true} {
		s, p := rawPeerStack(t, vnet, Config{})
		pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":0")
		if err != nil {
			t.Fatal(err)
		}
		c := pc.(*UDPConn)
		t.Cleanup(func() { c.Close() })
		port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
		for i, tc := range cases {
			if tc.vnet != vnet {
				continue
			}
			t.Run(fmt.Sprintf("vnet=%v/%s", vnet, tc.name), func(t *testing.T) {
				r := p.udp(port, fmt.Sprintf("case %d", i))
				if tc.mod != nil {
					tc.mod(&r)
				}
				frames := [][]byte{r.frame()}
				if tc.frames != nil {
					frames = tc.frames(r)
				}
				before := s.FastPathStats()
				for _, f := range frames {
					p.write(f, tc.hdr)
				}
				marker := fmt.Sprintf("marker %d", i)
				p.write(p.udp(port, marker).frame(), netdev.VnetHdr{})
				got := readUntil(t, c, marker)
				after := s.FastPathStats()

				byFast := after.Received - before.Received - 1 // the marker
				switch {
				case tc.want == dropped && len(got) > 0:
					t.Errorf("delivered %q, want it dropped", got)
				case tc.want != dropped && len(got) != 1:
					t.Errorf("delivered %q, want one datagram", got)
				case tc.want == fast && byFast != 1, tc.want != fast && byFast != 0:
					t.Errorf("%d datagrams by the fast path, want it %s", byFast, tc.want)
				}
				want := string(r.payload)
				if tc.payload != "" {
					want = tc.payload
				}
				if len(got) == 1 && got[0] != want {
					t.Errorf("delivered %q, want %q", got[0], want)
				}
				if errs := after.ChecksumErrors - before.ChecksumErrors; errs != map[bool]uint64{true: 1}[tc.csumErr] {
					t.Errorf("%d checksum errors counted", errs)
				}
			})
		}
	}
}

// partialChecksum is r's frame as the host hands one over with
// VnetNeedsCsum: the UDP checksum field holds the pseudo-header's sum.
func partialChecksum(r rawUDP) []byte {
	r.noCsum = true
	f := r.frame()
	binary.BigEndian.PutUint16(f[14+20+6:], onesSum(nil, pseudoSum(r.src.As4(), r.dst.As4(), 8+len(r.payload))))
	return f
}

// TestUDPFastPathTruncated sends every truncation of a good frame: none
// may be delivered, and the stack must survive them.
func TestUDPFastPathTruncated(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) {
			s, p := rawPeerStack(t, vnet, Config{})
			c, port := listenUDP(t, s, "udp4", ":0")
			full := p.udp(port, "the whole datagram").frame()
			for n := range len(full) {
				p.write(full[:n], netdev.VnetHdr{})
			}
			if vnet { // frames too short for the header itself
				for n := range netdev.VnetHdrLen {
					p.dev.Write([][]byte{make([]byte, n)})
				}
			}
			p.write(p.udp(port, "marker").frame(), netdev.VnetHdr{})
			if got := readUntil(t, c, "marker"); len(got) > 0 {
				t.Errorf("truncated frames delivered: %q", got)
			}
		})
	}
}

// TestUDPFastPathReply checks the frame of an answer on the fast path:
// back to where the question came from, with Linux's IPv4 header and
// correct checksums.
func TestUDPFastPathReply(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) {
			s, p := rawPeerStack(t, vnet, Config{})
			c, port := listenUDP(t, s, "udp", ":0")
			// A next hop that is not the peer's own MAC, as a router's.
			router := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xee}
			q := p.udp(port, "question")
			q.srcMAC = router
			q.src = netip.MustParseAddr("192.0.2.7")
			p.write(q.frame(), netdev.VnetHdr{})
			buf := make([]byte, 100)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			if ua := from.(*net.UDPAddr); len(ua.IP) != 4 || !ua.IP.Equal(net.IPv4(192, 0, 2, 7)) || ua.Port != 40000 {
				t.Errorf("from %#v, want 192.0.2.7:40000 with a 4-byte IP", ua)
			}
			before := s.FastPathStats()
			answer := []byte("answer to " + string(buf[:n]) + ", odd")
			if _, err := c.WriteTo(answer, from); err != nil {
				t.Fatal(err)
			}
			out := p.expectUDP(t)
			if s.FastPathStats().Sent != before.Sent+1 {
				t.Errorf("not sent by the fast path: %+v", s.FastPathStats())
			}
			if out.hdr != (netdev.VnetHdr{}) {
				t.Errorf("virtio-net header %+v, want an empty one", out.hdr)
			}
			f := out.frame
			check := func(what string, got, want any) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: %v, want %v", what, got, want)
				}
			}
			ip, udp := f[14:34], f[34:]
			check("destination MAC", net.HardwareAddr(f[0:6]), router)
			check("source MAC", net.HardwareAddr(f[6:12]), macB)
			check("version, IHL", ip[0], 0x45)
			check("TOS", ip[1], 0)
			check("total length", binary.BigEndian.Uint16(ip[2:]), 20+8+len(answer))
			check("ID", binary.BigEndian.Uint16(ip[4:]), 0)
			check("flags, offset", binary.BigEndian.Uint16(ip[6:]), 0x4000) // DF
			check("TTL", ip[8], 64)
			check("protocol", ip[9], 17)
			check("IP checksum", onesSum(ip, 0), 0xffff)
			check("source", netip.AddrFrom4([4]byte(ip[12:16])), ip4Stack.Addr())
			check("destination", netip.AddrFrom4([4]byte(ip[16:20])), q.src)
			check("ports", [2]uint16{binary.BigEndian.Uint16(udp[0:]), binary.BigEndian.Uint16(udp[2:])}, [2]uint16{port, 40000})
			check("UDP length", binary.BigEndian.Uint16(udp[4:]), 8+len(answer))
			check("UDP checksum", onesSum(udp, pseudoSum(ip4Stack.Addr().As4(), q.src.As4(), len(udp))), 0xffff)
			check("frame length", len(f), 14+20+8+len(answer))
			check("payload", string(udp[8:]), string(answer))
		})
	}
}

// TestUDPFastPathPortUnreachable: a datagram to a port no socket has still
// reaches gVisor, which answers it.
func TestUDPFastPathPortUnreachable(t *testing.T) {
	s, p := rawPeerStack(t, false, Config{})
	pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	p.write(p.udp(port+1, "anyone?").frame(), netdev.VnetHdr{})
	timeout := time.After(5 * time.Second)
	for {
		select {
		case out := <-p.out:
			f := out.frame
			if len(f) >= 36 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 1 && f[34] == 3 && f[35] == 3 {
				return // ICMP destination unreachable, port unreachable
			}
		case <-timeout:
			t.Fatal("no ICMP port unreachable")
		}
	}
}

// udpServer listens on s and echoes every datagram, with the
// allocation-free calls the DNS server uses.
func udpServer(t testing.TB, s *Stack, network, address string) *UDPConn {
	t.Helper()
	pc, err := s.ListenPacket(ctxTimeout(t, time.Second), network, address)
	if err != nil {
		t.Fatal(err)
	}
	c := pc.(*UDPConn)
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return c
}

// TestUDPFastPathEcho echoes datagrams between two stacks, with and
// without offload, on sockets bound in every way, and counts those that
// took the fast path.
func TestUDPFastPathEcho(t *testing.T) {
	cases := []struct {
		network, host string
		fast          bool // the server's socket has the fast path
	}{
		{"udp", "", true},
		{"udp4", "", true},
		{"udp4", "10.0.0.2", true},
		{"udp", "10.0.0.2", true},
		{"udp", "::ffff:10.0.0.2", true},
		{"udp6", "", false},
	}
	for _, vnet := range []bool{false, true} {
		a, b, _ := pairOver(t, vnet)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("vnet=%v/%s/%q", vnet, tc.network, tc.host), func(t *testing.T) {
				srv := udpServer(t, b, tc.network, net.JoinHostPort(tc.host, "0"))
				if (srv.fast != nil) != tc.fast {
					t.Fatalf("fast path: %v, want %v", srv.fast != nil, tc.fast)
				}
				port := srv.LocalAddr().(*net.UDPAddr).Port
				dst := ip4B.Addr()
				if tc.network == "udp6" {
					dst = ip6B.Addr()
					waitAddr(t, a, ip6A.Addr())
					waitAddr(t, b, dst)
				}
				pc, err := a.ListenPacket(ctxTimeout(t, time.Second), "udp", ":0")
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, uint16(port)))
				beforeA, beforeB := a.FastPathStats(), b.FastPathStats()
				const rounds = 20
				for i := range rounds {
					want := bytes.Repeat([]byte{byte(i)}, 1+i*73) // up to 1388 bytes
					if !echoFrom(t, pc, to, want) {
						return
					}
				}
				dA, dB := diffStats(a.FastPathStats(), beforeA), diffStats(b.FastPathStats(), beforeB)
				if !tc.fast {
					if dB != (FastPathStats{}) {
						t.Errorf("server's fast path: %+v, want nothing", dB)
					}
					return
				}
				// The server hears every question first: all by the fast
				// path both ways. The client's first datagram goes through
				// gVisor (it has not heard from the server yet), the
				// others by the fast path.
				if dB.Received < rounds || dB.Sent < rounds || dB.WriteMisses != 0 {
					t.Errorf("server's fast path: %+v, want %d received and sent", dB, rounds)
				}
				if dA.Received < rounds || dA.Sent < rounds-1 || dA.WriteMisses < 1 {
					t.Errorf("client's fast path: %+v, want %d received, %d sent, 1 miss", dA, rounds, rounds-1)
				}
			})
		}
	}
}

func diffStats(after, before FastPathStats) FastPathStats {
	return FastPathStats{
		Received:       after.Received - before.Received,
		Inline:         after.Inline - before.Inline,
		Sent:           after.Sent - before.Sent,
		QueueDrops:     after.QueueDrops - before.QueueDrops,
		ChecksumErrors: after.ChecksumErrors - before.ChecksumErrors,
		WriteMisses:    after.WriteMisses - before.WriteMisses,
	}
}

// TestUDPFastPathBothPaths sends one socket datagrams that take the fast
// path and others that go through gVisor (IPv6, fragmented IPv4): it
// reads them all, from the right senders.
func TestUDPFastPathBothPaths(t *testing.T) {
	a, b := pair(t)
	srv := udpServer(t, b, "udp", ":0")
	port := uint16(srv.LocalAddr().(*net.UDPAddr).Port)
	waitAddr(t, a, ip6A.Addr())
	waitAddr(t, b, ip6B.Addr())
	pc, err := a.ListenPacket(ctxTimeout(t, time.Second), "udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	before := b.FastPathStats()
	small, large := 0, 0
	for i := range 30 {
		dst, size := ip4B.Addr(), 100
		switch i % 3 {
		case 1:
			dst = ip6B.Addr()
		case 2:
			size = 4000 // fragmented
		}
		if size == 100 && dst.Is4() {
			small++
		} else {
			large++
		}
		to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, port))
		want := bytes.Repeat([]byte{byte(i)}, size)
		if !echoFrom(t, pc, to, want) {
			return
		}
	}
	if d := diffStats(b.FastPathStats(), before); d.Received < uint64(small) || d.Received >= uint64(small+large) {
		t.Errorf("fast path: %+v; want the %d small IPv4 datagrams, not the %d others", d, small, large)
	}
}

// TestUDPFastPathWriteToUnknownPeer: a datagram to a peer the socket has
// not heard from goes through gVisor, which resolves its neighbor.
func TestUDPFastPathWriteToUnknownPeer(t *testing.T) {
	a, b := pair(t)
	pa, err := a.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	pb, err := b.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	to := &net.UDPAddr{IP: ip4A.Addr().AsSlice(), Port: pa.LocalAddr().(*net.UDPAddr).Port}
	before := b.FastPathStats()
	got := make([]byte, 10)
	if !roundTrip(t, func() error { _, err := pb.WriteTo([]byte("hello"), to); return err },
		func() (int, error) { n, _, err := pa.ReadFrom(got); return n, err }, pa.SetReadDeadline, got, []byte("hello")) {
		return
	}
	if d := diffStats(b.FastPathStats(), before); d.Sent != 0 || d.WriteMisses == 0 {
		t.Errorf("sender's fast path: %+v, want misses and nothing sent", d)
	}
}

// TestUDPFastPathDeadlinesAndClose checks deadlines and Close on sockets
// with the fast path, and that their errors are those of sockets without.
func TestUDPFastPathDeadlinesAndClose(t *testing.T) {
	errs := map[bool][]string{}
	for _, fast := range []bool{false, true} {
		t.Run(fmt.Sprintf("fast=%v", fast), func(t *testing.T) {
			cfg := Config{DisableUDPFastPath: !fast}
			s, p := rawPeerStack(t, false, cfg)
			pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", "10.0.0.2:7777")
			if err != nil {
				t.Fatal(err)
			}
			c := pc.(*UDPConn)
			if (c.fast != nil) != fast {
				t.Fatalf("fast path: %v", c.fast != nil)
			}
			port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
			buf := make([]byte, 100)
			record := func(what string, err error) {
				t.Helper()
				errs[fast] = append(errs[fast], fmt.Sprintf("%s: %v", what, err))
				var oe *net.OpError
				if err != nil && !errors.As(err, &oe) {
					t.Errorf("%s: %T %v, want a *net.OpError", what, err, err)
				}
			}
			timedOut := func(what string, err error) {
				t.Helper()
				record(what, err)
				var ne net.Error
				if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("%s: %v, want a timeout", what, err)
				}
			}

			// A deadline past fails at once, even with a datagram waiting.
			p.write(p.udp(port, "waiting").frame(), netdev.VnetHdr{})
			time.Sleep(50 * time.Millisecond)
			c.SetReadDeadline(time.Now().Add(-time.Second))
			_, _, err = c.ReadFrom(buf)
			timedOut("past deadline", err)
			// No deadline: the datagram.
			c.SetReadDeadline(time.Time{})
			if n, _, err := c.ReadFrom(buf); err != nil || string(buf[:n]) != "waiting" {
				t.Errorf("read: %q, %v", buf[:n], err)
			}
			// A deadline to come: a wait, then a timeout.
			start := time.Now()
			c.SetDeadline(time.Now().Add(100 * time.Millisecond))
			_, _, err = c.ReadFrom(buf)
			timedOut("deadline", err)
			if waited := time.Since(start); waited < 90*time.Millisecond || waited > 3*time.Second {
				t.Errorf("timed out after %v, want 100ms", waited)
			}
			// Moved away: a datagram arriving while it waits.
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			go func() {
				time.Sleep(50 * time.Millisecond)
				p.write(p.udp(port, "later").frame(), netdev.VnetHdr{})
			}()
			if n, from, err := c.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "later" ||
				from != netip.AddrPortFrom(ip4Raw.Addr(), 40000) {
				t.Errorf("read: %q from %v, %v", buf[:n], from, err)
			}
			// A write deadline past fails writes, to a peer of the cache too.
			c.SetWriteDeadline(time.Now().Add(-time.Second))
			_, err = c.WriteTo([]byte("x"), &net.UDPAddr{IP: ip4Raw.Addr().AsSlice(), Port: 40000})
			timedOut("write deadline", err)
			c.SetWriteDeadline(time.Time{})
			if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: ip4Raw.Addr().AsSlice(), Port: 40000}); err != nil {
				t.Errorf("write: %v", err)
			}
			// Close wakes a reader.
			pc2, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":7778")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, _, err := pc2.ReadFrom(buf); done <- err }()
			time.Sleep(50 * time.Millisecond)
			if err := pc2.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			select {
			case err := <-done:
				record("blocked read", err)
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("read blocked at Close: %v, want net.ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Close did not wake the reader")
			}
			// Closed with datagrams waiting, everything fails.
			p.write(p.udp(port, "queued, never read").frame(), netdev.VnetHdr{})
			p.write(p.udp(port, "queued, never read").frame(), netdev.VnetHdr{})
			time.Sleep(50 * time.Millisecond)
			if err := c.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			_, _, err = c.ReadFrom(buf)
			record("read after close", err)
			_, _, err2 := c.ReadFromUDPAddrPort(buf)
			_, err3 := c.Read(buf)
			_, err4 := c.WriteTo([]byte("x"), &net.UDPAddr{IP: ip4Raw.Addr().AsSlice(), Port: 40000})
			record("write after close", err4)
			err5 := c.Close()
			record("second close", err5)
			for _, err := range []error{err, err2, err3, err4, err5} {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("after Close: %v, want net.ErrClosed", err)
				}
			}
		})
	}
	if !slices.Equal(errs[false], errs[true]) {
		t.Errorf("errors differ:\nwithout the fast path:\n\t%s\nwith it:\n\t%s",
			strings.Join(errs[false], "\n\t"), strings.Join(errs[true], "\n\t"))
	}
}

// TestUDPFastPathQueueFull sends a socket more than its receive buffer
// holds: the rest is dropped and counted.
func TestUDPFastPathQueueFull(t *testing.T) {
	s, p := rawPeerStack(t, false, Config{})
	c, port := listenUDP(t, s, "udp4", ":0")
	const size, count = 100, 2000
	capacity := c.fast.q.limit / (size + datagramOverhead)
	frame := p.udp(port, strings.Repeat("q", size)).frame()
	for i := range count {
		p.write(frame, netdev.VnetHdr{})
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // the pipe holds 512
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var st FastPathStats
	for st = s.FastPathStats(); st.Received+st.QueueDrops < count && time.Now().Before(deadline); st = s.FastPathStats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Received != uint64(capacity) || st.QueueDrops == 0 || st.Received+st.QueueDrops > count {
		t.Errorf("%+v; want %d received (the queue's capacity), the rest dropped", st, capacity)
	}
	read := 0
	buf := make([]byte, 200)
	for {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); err != nil {
			break
		}
		read++
	}
	if read != capacity {
		t.Errorf("read %d datagrams, want %d", read, capacity)
	}
}

// TestUDPFastPathStackClose: closing the stack ends a blocked read as it
// does without the fast path.
func TestUDPFastPathStackClose(t *testing.T) {
	errs := map[bool]string{}
	for _, fast := range []bool{false, true} {
		s, _ := rawPeerStack(t, false, Config{DisableUDPFastPath: !fast})
		pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":7777")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); done <- err }()
		time.Sleep(50 * time.Millisecond)
		s.Close()
		select {
		case err := <-done:
			errs[fast] = fmt.Sprint(err)
		case <-time.After(5 * time.Second):
			t.Fatalf("fast=%v: closing the stack did not end the read", fast)
		}
		pc.Close()
	}
	if errs[false] != errs[true] {
		t.Errorf("read ended by the stack's Close: %q with the fast path, %q without", errs[true], errs[false])
	}
}

// listenUDP opens a UDP socket on s, closed with the test, and returns it
// with its port.
func listenUDP(t *testing.T, s *Stack, network, addr string) (*UDPConn, uint16) {
	t.Helper()
	pc, err := s.ListenPacket(ctxTimeout(t, time.Second), network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c := pc.(*UDPConn)
	t.Cleanup(func() { c.Close() })
	return c, uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// echoFrom sends want to an echo server at to over pc and checks that the
// same bytes come back from to; it reports false when roundTrip failed t.
func echoFrom(t *testing.T, pc net.PacketConn, to *net.UDPAddr, want []byte) bool {
	t.Helper()
	got := make([]byte, len(want)+1024)
	var from net.Addr
	if !roundTrip(t, func() error { _, err := pc.WriteTo(want, to); return err },
		func() (n int, err error) { n, from, err = pc.ReadFrom(got); return }, pc.SetReadDeadline, got, want) {
		return false
	}
	if ua := from.(*net.UDPAddr); ua.AddrPort() != to.AddrPort() {
		t.Fatalf("echo from %v, want %v", from, to)
	}
	return true
}
