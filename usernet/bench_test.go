package usernet

import (
	"fmt"
	"io"
	"net"
	"testing"
)

// BenchmarkForwardTCP measures one connection's throughput from the host
// to the guest through a forward: host socket, relay, the gateway's
// netstack, the socket pair, the guest's netstack. The time includes the
// guest reading the last byte.
func BenchmarkForwardTCP(b *testing.B) {
	for _, mtu := range []int{DefaultMTU, 9000, MaxMTU} {
		b.Run(fmt.Sprintf("mtu=%d", mtu), func(b *testing.B) {
			n, g := startPair(b, Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 9)}, MTU: mtu, Log: discardLog()})
			ln := g.listenTCP(b, 9)
			got := make(chan int64, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					got <- -1
					return
				}
				defer c.Close()
				m, _ := io.CopyBuffer(struct{ io.Writer }{io.Discard}, c, make([]byte, 64<<10))
				got <- m
			}()
			c, err := net.Dial("tcp", hostAddr(n, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 128<<10)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			c.(*net.TCPConn).CloseWrite()
			m := <-got
			b.StopTimer()
			if want := int64(b.N) * int64(len(buf)); m != want {
				b.Fatalf("guest read %d bytes, want %d", m, want)
			}
		})
	}
}
