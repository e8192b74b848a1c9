package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
	"github.com/morgana-os/morgana/stack"
)

// TestUDPOnStack serves UDP on the image's own stack (package stack over
// an in-memory pipe), as in a VM, with the stack's UDP fast path and
// without: the answers must be the same, and with it, they must have
// taken it.
//
// With the fast path, however many workers there are, the stack answers
// each datagram inline, on the goroutine that receives it: the counters
// say so.
func TestUDPOnStack(t *testing.T) {
	for _, tc := range []struct {
		fast    bool
		workers int
	}{{true, 2}, {true, 1}, {false, 1}} {
		fast := tc.fast
		t.Run(fmt.Sprintf("fast=%v/workers=%d", fast, tc.workers), func(t *testing.T) {
			devC, devS := netdevtest.Pipe(net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}, 1500)
			newStack := func(dev netdev.Device, addr string) *stack.Stack {
				s, err := stack.New(stack.Config{
					NICs:               []stack.NICConfig{{Device: dev, IPv4: netip.MustParsePrefix(addr)}},
					DisableUDPFastPath: !fast,
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			client, srvStack := newStack(devC, "10.0.0.1/24"), newStack(devS, "10.0.0.2/24")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			pc, err := srvStack.ListenPacket(ctx, "udp", ":53")
			if err != nil {
				t.Fatal(err)
			}
			s := &Server{Table: testTable(t), Workers: tc.workers}
			done := make(chan error, 1)
			go func() { done <- s.ServeUDP(pc) }()
			defer func() {
				pc.Close()
				if err := <-done; err != nil {
					t.Errorf("ServeUDP: %v", err)
				}
			}()

			c, err := client.ListenPacket(ctx, "udp4", ":0")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			srv := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 53}
			buf := make([]byte, 2048)
			before := srvStack.FastPathStats()
			const queries = 50
			for i := range queries {
				m := new(dns.Msg)
				m.SetQuestion("www.example.com.", dns.TypeA)
				m.Id = uint16(i)
				q, _ := m.Pack()
				var r dns.Msg
				for try := 0; ; try++ { // the first waits for ARP
					c.WriteTo(q, srv)
					c.SetReadDeadline(time.Now().Add(time.Second))
					n, _, err := c.ReadFrom(buf)
					if err == nil {
						if err := r.Unpack(buf[:n]); err != nil {
							t.Fatal(err)
						}
						break
					}
					if try == 3 {
						t.Fatalf("query %d: %v", i, err)
					}
				}
				if r.Id != uint16(i) || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
					t.Fatalf("answer: %v", &r)
				}
				if i == 0 {
					// Counted from the second: the first may come before
					// ServeUDP has set itself up (and waits for ARP).
					before = srvStack.FastPathStats()
				}
			}
			st := srvStack.FastPathStats()
			if got := st.Sent - before.Sent; fast && got < queries-1 || !fast && got != 0 {
				t.Errorf("%d answers sent by the fast path (%+v)", got, st)
			}
			if got := st.Inline - before.Inline; fast && got < queries-1 || !fast && got != 0 {
				t.Errorf("%d queries answered inline (%+v)", got, st)
			}
		})
	}
}
