package stack

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// TestPing pings one stack from the other with a gVisor ping socket: the
// stack must answer echo requests, over IPv4 and IPv6.
func TestPing(t *testing.T) {
	a, b := pair(t)
	for _, dst := range []netip.Addr{ip4B.Addr(), ip6B.Addr()} {
		t.Run(dst.String(), func(t *testing.T) {
			waitAddr(t, b, dst)
			waitAddr(t, a, map[bool]netip.Addr{true: ip4A.Addr(), false: ip6A.Addr()}[dst.Is4()])
			replies := func() uint64 {
				if dst.Is4() {
					return b.gv.Stats().ICMP.V4.PacketsSent.EchoReply.Value()
				}
				return b.gv.Stats().ICMP.V6.PacketsSent.EchoReply.Value()
			}
			before := replies()
			var err error
			for try := 0; try < 3; try++ { // the first may wait for neighbor resolution
				if err = ping(a, dst, []byte("are you there?"), time.Second); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if replies() == before {
				t.Error("the pinged stack counted no echo reply")
			}
		})
	}
}

// ping sends one echo request from s to dst and waits for the reply.
func ping(s *Stack, dst netip.Addr, payload []byte, timeout time.Duration) error {
	netProto, transProto := ipv4.ProtocolNumber, icmp.ProtocolNumber4
	msg := make([]byte, header.ICMPv4MinimumSize+len(payload))
	if dst.Is4() {
		h := header.ICMPv4(msg)
		h.SetType(header.ICMPv4Echo)
		h.SetSequence(1)
	} else {
		netProto, transProto = ipv6.ProtocolNumber, icmp.ProtocolNumber6
		h := header.ICMPv6(msg)
		h.SetType(header.ICMPv6EchoRequest)
		h.SetSequence(1)
	}
	copy(msg[header.ICMPv4MinimumSize:], payload)

	var wq waiter.Queue
	ep, terr := s.gv.NewEndpoint(transProto, netProto, &wq)
	if terr != nil {
		return fmt.Errorf("ping socket: %s", terr)
	}
	defer ep.Close()
	entry, readable := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	if _, terr := ep.Write(bytes.NewReader(msg), tcpip.WriteOptions{To: &tcpip.FullAddress{Addr: addrToTCPIP(dst)}}); terr != nil {
		return fmt.Errorf("sending echo request: %s", terr)
	}
	deadline := time.After(timeout)
	for {
		var buf bytes.Buffer
		_, terr := ep.Read(&buf, tcpip.ReadOptions{})
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			select {
			case <-readable:
				continue
			case <-deadline:
				return fmt.Errorf("no echo reply from %v in %v", dst, timeout)
			}
		}
		if terr != nil {
			return fmt.Errorf("reading echo reply: %s", terr)
		}
		reply := buf.Bytes()
		wantType := byte(header.ICMPv4EchoReply)
		if !dst.Is4() {
			wantType = byte(header.ICMPv6EchoReply)
		}
		if len(reply) < header.ICMPv4MinimumSize || reply[0] != wantType {
			return fmt.Errorf("reply %x is not an echo reply", reply)
		}
		if !bytes.Equal(reply[header.ICMPv4MinimumSize:], payload) {
			return fmt.Errorf("echo reply carries %q, sent %q", reply[header.ICMPv4MinimumSize:], payload)
		}
		return nil
	}
}
