package stack

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestUDPInline echoes datagrams with an inline handler, with and without
// offload: answers come back from the address they were sent to, IPv6
// still reaches ReadFrom, a reply beyond the MTU is refused, and with the
// handler taken back the datagrams are queued for ReadFrom again.
func TestUDPInline(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) {
			a, b, _ := pairOver(t, vnet)
			srv := udpServer(t, b, "udp", ":0") // ReadFrom echoes what the handler does not take
			port := uint16(srv.LocalAddr().(*net.UDPAddr).Port)
			tooLong := make(chan error, 1)
			if !srv.ServeInline(func(req []byte, from netip.AddrPort, reply func([]byte) error) {
				if bytes.Equal(req, []byte("too long")) {
					tooLong <- reply(make([]byte, 70000))
					return
				}
				reply(req)
			}) {
				t.Fatal("ServeInline: the socket has no fast path")
			}
			pc, err := a.ListenPacket(ctxTimeout(t, time.Second), "udp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			to4 := net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip4B.Addr(), port))
			before := b.FastPathStats()
			const rounds = 20
			for i := range rounds {
				if !echoFrom(t, pc, to4, bytes.Repeat([]byte{byte(i)}, 1+i*70)) {
					return
				}
			}
			if d := diffStats(b.FastPathStats(), before); d.Inline < rounds || d.Sent < rounds {
				t.Errorf("fast path: %+v, want %d answered inline", d, rounds)
			}

			waitAddr(t, a, ip6A.Addr())
			waitAddr(t, b, ip6B.Addr())
			to6 := net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip6B.Addr(), port))
			before = b.FastPathStats()
			if !echoFrom(t, pc, to6, []byte("over IPv6, through ReadFrom")) {
				return
			}
			if d := diffStats(b.FastPathStats(), before); d.Inline != 0 {
				t.Errorf("an IPv6 datagram answered inline: %+v", d)
			}

			pc.WriteTo([]byte("too long"), to4)
			select {
			case err := <-tooLong:
				if err == nil {
					t.Error("a 70000-byte reply was sent")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the handler did not get the datagram")
			}

			srv.ServeInline(nil)
			before = b.FastPathStats()
			if !echoFrom(t, pc, to4, []byte("queued again")) {
				return
			}
			if d := diffStats(b.FastPathStats(), before); d.Inline != 0 || d.Received != 1 {
				t.Errorf("after ServeInline(nil): %+v, want one datagram queued", d)
			}
		})
	}
}
