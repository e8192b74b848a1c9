package stack

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkTCPThroughput measures one TCP stream from one stack to the
// other over netdevtest.Pipe, IPv4, 1500-byte MTU: the cost of the whole
// path (gVisor's TCP and IP, checksums, the link endpoint's copies, the
// pipe's channel), without and with offload (64 KiB segments).
// b.SetBytes makes go test report MB/s.
func BenchmarkTCPThroughput(b *testing.B) {
	for _, vnet := range []bool{false, true} {
		b.Run(fmt.Sprintf("vnet=%v", vnet), func(b *testing.B) { benchmarkTCPThroughput(b, vnet) })
	}
}

func benchmarkTCPThroughput(b *testing.B, vnet bool) {
	const chunk = 128 << 10
	sa, sb, _ := pairOver(b, vnet)
	l, err := sb.Listen(ctxTimeout(b, time.Second), "tcp", ":0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	done := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		done <- n
	}()
	c, err := sa.Dial(ctxTimeout(b, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*TCPConn).CloseWrite()
	if n := <-done; n != int64(b.N)*chunk {
		b.Fatalf("received %d bytes, sent %d", n, int64(b.N)*chunk)
	}
	b.StopTimer()
	c.Close()
}
