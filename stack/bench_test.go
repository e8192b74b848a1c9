package stack

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev/netdevtest"
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

// BenchmarkTCPRequestResponse measures small exchanges on one connection
// between the two stacks over netdevtest.Pipe: a 100-byte request, a
// 1 KiB answer, with read and write deadlines set per exchange as
// net/http sets them. One op is one exchange: the per-request cost of the
// TCP path that a small web page pays, both ends together, and its
// allocations.
func BenchmarkTCPRequestResponse(b *testing.B) {
	sa, sb, _ := pairOver(b, false)
	l, err := sb.Listen(ctxTimeout(b, time.Second), "tcp", ":0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const reqSize, respSize = 100, 1024
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, resp := make([]byte, reqSize), make([]byte, respSize)
		for {
			c.SetReadDeadline(time.Now().Add(time.Minute))
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			c.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	}()
	c, err := sa.Dial(ctxTimeout(b, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req, resp := make([]byte, reqSize), make([]byte, respSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUDPEcho measures datagrams echoed by a server socket on one
// stack to a client on the other over netdevtest.Pipe, IPv4, with the UDP
// fast path (both stacks) and without (gVisor's netstack all the way): the
// server loop is the DNS server's (ReadFromUDPAddrPort, WriteToUDPAddrPort),
// the client keeps a window of datagrams in flight, as dnsperf does. One
// op is one datagram there and back: four trips through a stack.
func BenchmarkUDPEcho(b *testing.B) {
	for _, fast := range []bool{true, false} {
		for _, vnet := range []bool{false, true} {
			name := map[bool]string{true: "fast", false: "gvisor"}[fast]
			b.Run(fmt.Sprintf("%s/vnet=%v", name, vnet), func(b *testing.B) { benchmarkUDPEcho(b, fast, vnet) })
		}
	}
}

func benchmarkUDPEcho(b *testing.B, fast, vnet bool) {
	const (
		size   = 64 // a DNS query's size
		window = 16
	)
	pipe := netdevtest.Pipe
	if vnet {
		pipe = netdevtest.PipeVnet
	}
	devA, devB := pipe(macA, macB, 1500)
	quiet := slog.New(slog.DiscardHandler)
	sa := newStack(b, Config{NICs: []NICConfig{{Device: devA, IPv4: ip4A}}, DisableUDPFastPath: !fast, Logger: quiet})
	sb := newStack(b, Config{NICs: []NICConfig{{Device: devB, IPv4: ip4B}}, DisableUDPFastPath: !fast, Logger: quiet})
	srv := udpServer(b, sb, "udp4", ":0")
	to := netip.AddrPortFrom(ip4B.Addr(), uint16(srv.LocalAddr().(*net.UDPAddr).Port))
	pc, err := sa.ListenPacket(ctxTimeout(b, time.Second), "udp4", ":0")
	if err != nil {
		b.Fatal(err)
	}
	c := pc.(*UDPConn)
	defer c.Close()
	msg := make([]byte, size)
	buf := make([]byte, 2*size)
	// The first exchange resolves the neighbors.
	for try := 0; ; try++ {
		c.WriteToUDPAddrPort(msg, to)
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := c.ReadFromUDPAddrPort(buf); err == nil {
			break
		} else if try == 5 {
			b.Fatal(err)
		}
	}
	before := sb.FastPathStats()
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for ; sent < min(window, b.N); sent++ {
		c.WriteToUDPAddrPort(msg, to)
	}
	for got := 0; got < b.N; {
		if got%256 == 0 {
			c.SetReadDeadline(time.Now().Add(time.Second))
		}
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			c.SetReadDeadline(time.Now().Add(time.Second))
			// Lost (a full pipe drops frames): refill the window.
			for range window - (sent - got) {
				c.WriteToUDPAddrPort(msg, to)
			}
			continue
		}
		got++
		if sent < b.N {
			c.WriteToUDPAddrPort(msg, to)
			sent++
		}
	}
	b.StopTimer()
	if d := diffStats(sb.FastPathStats(), before); fast && d.Received < uint64(b.N) {
		b.Errorf("the server's fast path took %d datagrams of %d", d.Received, b.N)
	}
}
