package stack

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// udpEcho serves c, sending every datagram back to where it came from.
func udpEcho(c net.PacketConn) {
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	}()
}

// TestUDPEcho sends datagrams of many sizes to an echo server, over IPv4
// and IPv6, from a dialed socket and from an unconnected one.
func TestUDPEcho(t *testing.T) {
	a, b := pair(t)
	srv, err := b.ListenPacket(ctxTimeout(t, time.Second), "udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	udpEcho(srv)
	port := srv.LocalAddr().(*net.UDPAddr).Port
	sizes := []int{0, 1, 100, 1000, 1472, 4000, 20000} // beyond the MTU: fragmented

	for _, dst := range []netip.Addr{ip4B.Addr(), ip6B.Addr()} {
		waitAddr(t, b, dst)
		waitAddr(t, a, map[bool]netip.Addr{true: ip4A.Addr(), false: ip6A.Addr()}[dst.Is4()])
		t.Run("dial/"+dst.String(), func(t *testing.T) {
			c, err := a.Dial(ctxTimeout(t, time.Second), "udp", hostPort(dst, port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, n := range sizes {
				want := bytes.Repeat([]byte{byte(n)}, n)
				got := make([]byte, n+1)
				if !roundTrip(t, func() error { _, err := c.Write(want); return err },
					func() (int, error) { return c.Read(got) }, c.SetReadDeadline, got, want) {
					return
				}
			}
		})
		t.Run("unconnected/"+dst.String(), func(t *testing.T) {
			c, err := a.ListenPacket(ctxTimeout(t, time.Second), "udp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// net.ParseIP gives IPv4 addresses in 16 bytes: WriteTo
			// must take them as net's sockets do.
			to := &net.UDPAddr{IP: net.ParseIP(dst.String()), Port: port}
			want := []byte("datagram")
			got := make([]byte, 100)
			var from net.Addr
			roundTrip(t, func() error { _, err := c.WriteTo(want, to); return err },
				func() (n int, err error) { n, from, err = c.ReadFrom(got); return }, c.SetReadDeadline, got, want)
			if fa, ok := from.(*net.UDPAddr); !ok || !fa.IP.Equal(to.IP) || fa.Port != port {
				t.Errorf("answer from %v, want %v", from, to)
			}
		})
	}

	// Closed sockets say so.
	c, _ := a.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":0")
	c.Close()
	if _, _, err := c.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read from a closed socket: %v, want net.ErrClosed", err)
	}
	if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: port}); err == nil {
		t.Error("write to a closed socket succeeded")
	}
}

// roundTrip sends, then reads the echo, retrying a few times since
// datagrams may be lost (the first ones wait for neighbor resolution).
func roundTrip(t *testing.T, send func() error, recv func() (int, error), deadline func(time.Time) error, got, want []byte) bool {
	t.Helper()
	for try := 0; try < 5; try++ {
		if err := send(); err != nil {
			t.Errorf("send %d bytes: %v", len(want), err)
			return false
		}
		deadline(time.Now().Add(time.Second))
		n, err := recv()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			t.Errorf("receive %d bytes: %v", len(want), err)
			return false
		}
		if !bytes.Equal(got[:n], want) {
			t.Errorf("echo of %d bytes: got %d bytes, different", len(want), n)
			return false
		}
		return true
	}
	t.Errorf("no echo of %d bytes", len(want))
	return false
}
