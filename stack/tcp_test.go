package stack

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// echo serves l, copying what each connection sends back to it, until l
// is closed.
func echo(t testing.TB, l net.Listener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

// echoConn returns a connection from one stack of a pair to an echo
// server on the other.
func echoConn(t *testing.T) *TCPConn {
	t.Helper()
	a, b := pair(t)
	l, err := b.Listen(ctxTimeout(t, 5*time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	echo(t, l)
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*TCPConn)
}

// TestTCPEcho sends 16 MiB from one stack to the other, which sends it
// back, over IPv4 and IPv6: both directions must carry the same bytes. It
// does so over a plain link and over one with offload (virtio-net
// headers), where the stacks exchange 64 KiB segments whose checksums
// the receiving end completes.
func TestTCPEcho(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) { testTCPEcho(t, vnet) })
	}
}

func testTCPEcho(t *testing.T, vnet bool) {
	const size = 16 << 20
	a, b, frames := pairOver(t, vnet)
	for _, dst := range []netip.Addr{ip4B.Addr(), ip6B.Addr()} {
		t.Run(dst.String(), func(t *testing.T) {
			waitAddr(t, a, map[bool]netip.Addr{true: ip4A.Addr(), false: ip6A.Addr()}[dst.Is4()])
			waitAddr(t, b, dst)
			l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := l.Addr().(*net.TCPAddr).Port

			// The server hashes what it receives as it echoes it.
			serverSum := make(chan []byte, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					serverSum <- nil
					return
				}
				defer c.Close()
				h := sha256.New()
				io.Copy(c, io.TeeReader(c, h))
				serverSum <- h.Sum(nil)
			}()

			c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(dst, port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(90 * time.Second)) // for the race detector
			sent := sha256.New()
			writeErr := make(chan error, 1)
			go func() {
				rng := rand.New(rand.NewChaCha8([32]byte{1}))
				buf := make([]byte, 64<<10)
				for n := 0; n < size; n += len(buf) {
					for i := range buf {
						buf[i] = byte(rng.Uint32())
					}
					sent.Write(buf)
					if _, err := c.Write(buf); err != nil {
						writeErr <- err
						return
					}
				}
				writeErr <- c.(*TCPConn).CloseWrite()
			}()
			got := sha256.New()
			n, err := io.Copy(got, c)
			if err != nil {
				t.Fatalf("reading the echo after %d bytes: %v", n, err)
			}
			if err := <-writeErr; err != nil {
				t.Fatalf("writing: %v", err)
			}
			if n != size {
				t.Fatalf("echoed %d bytes, sent %d", n, size)
			}
			if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
				t.Errorf("echo's SHA-256 %x, sent %x", got.Sum(nil), sent.Sum(nil))
			}
			if s := <-serverSum; !bytes.Equal(s, sent.Sum(nil)) {
				t.Errorf("server received SHA-256 %x, sent %x", s, sent.Sum(nil))
			}
			if m := frames.max.Load(); vnet && m < 8000 || !vnet && m > 1514 {
				t.Errorf("largest frame %d bytes: offload %v", m, vnet)
			}
		})
	}
}

// TestTCPConcurrent runs 200 connections at once, each echoing its own
// data.
func TestTCPConcurrent(t *testing.T) {
	const conns, size = 200, 16 << 10
	a, b := pair(t)
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	addr := hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port)

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			c, err := a.Dial(ctxTimeout(t, 20*time.Second), "tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			// Generous: netdevtest.Pipe drops frames when its queue is
			// full, and 200 connections starting at once overflow it,
			// so some wait for retransmission timeouts, all the more
			// under the race detector.
			c.SetDeadline(time.Now().Add(45 * time.Second))
			want := bytes.Repeat([]byte{byte(i)}, size)
			go c.Write(want)
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("conn %d: %w", i, err)
				return
			}
			if !bytes.Equal(got, want) {
				errs <- fmt.Errorf("conn %d: echo differs", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConnectionRefused checks that a refused connection reads as on
// Linux: *net.OpError, ECONNREFUSED.
func TestConnectionRefused(t *testing.T) {
	a, _ := pair(t)
	for _, dst := range []netip.Addr{ip4B.Addr(), netip.MustParseAddr("127.0.0.1")} {
		_, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(dst, 9))
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			t.Fatalf("dial %v: %v (%T), want a *net.OpError of dial", dst, err, err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %v: %v, want ECONNREFUSED", dst, err)
		}
		want := fmt.Sprintf("dial tcp %s: connect: connection refused", hostPort(dst, 9))
		if err.Error() != want {
			t.Errorf("dial %v: %q, want %q", dst, err, want)
		}
	}
}

// TestListenAddr checks the addresses listeners report and bind errors.
func TestListenAddr(t *testing.T) {
	_, b := pair(t)
	tests := []struct {
		network, address string
		ip               string // want Addr's IP, "" for an error
		errno            error
	}{
		{"tcp", ":0", "::", nil},
		{"tcp", "0.0.0.0:0", "::", nil}, // dual-stack, as Go on Linux
		{"tcp4", ":0", "0.0.0.0", nil},
		{"tcp6", ":0", "::", nil},
		{"tcp", "127.0.0.1:0", "127.0.0.1", nil},
		{"tcp6", "[::1]:0", "::1", nil},
		{"tcp", "localhost:0", "127.0.0.1", nil},
		{"tcp", "10.0.0.2:0", "10.0.0.2", nil},
		{"tcp", "10.9.9.9:0", "", syscall.EADDRNOTAVAIL},
		{"tcp4", "[::1]:0", "", nil},
		{"udp", ":0", "", nil}, // not a stream network
	}
	for _, tt := range tests {
		l, err := b.Listen(ctxTimeout(t, time.Second), tt.network, tt.address)
		if tt.ip == "" {
			if err == nil {
				l.Close()
				t.Errorf("Listen(%s, %s) succeeded, want an error", tt.network, tt.address)
			} else if tt.errno != nil && !errors.Is(err, tt.errno) {
				t.Errorf("Listen(%s, %s): %v, want %v", tt.network, tt.address, err, tt.errno)
			}
			continue
		}
		if err != nil {
			t.Errorf("Listen(%s, %s): %v", tt.network, tt.address, err)
			continue
		}
		ta := l.Addr().(*net.TCPAddr)
		if ta.IP.String() != tt.ip || ta.Port == 0 {
			t.Errorf("Listen(%s, %s).Addr() = %v, want %s with a port", tt.network, tt.address, ta, tt.ip)
		}
		// The port is taken now.
		_, err = b.Listen(ctxTimeout(t, time.Second), tt.network, net.JoinHostPort(ta.IP.String(), fmt.Sprint(ta.Port)))
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("second Listen on %v: %v, want EADDRINUSE", ta, err)
		}
		l.Close()
	}
}

// TestDialDeadline checks that a dial to a host that never answers ends
// with the context's deadline, as a timeout.
func TestDialDeadline(t *testing.T) {
	a, _ := pair(t)
	start := time.Now()
	_, err := a.Dial(ctxTimeout(t, 300*time.Millisecond), "tcp", "10.0.0.99:80")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("dial took %v", elapsed)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("dial: %v, want a timeout", err)
	}
}

// TestReadDeadline checks deadlines on an established connection, and
// the errors after Close.
func TestReadDeadline(t *testing.T) {
	a, b := pair(t)
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v, want net.ErrClosed", err)
	}
}

// TestCloseUnblocksAccept checks that closing the listener, or the whole
// stack, makes a blocked Accept return net.ErrClosed.
func TestCloseUnblocksAccept(t *testing.T) {
	for _, closeStack := range []bool{false, true} {
		t.Run(fmt.Sprintf("stack=%v", closeStack), func(t *testing.T) {
			_, b := pair(t)
			l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := l.Accept()
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			if closeStack {
				b.Close()
			} else {
				l.Close()
			}
			select {
			case err := <-done:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Accept: %v, want net.ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Accept still blocked after Close")
			}
			if closeStack {
				if _, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0"); err == nil {
					t.Error("Listen on a closed stack succeeded")
				}
			}
		})
	}
}

// TestKeepAlive checks that connections have keep-alive on, as Go's do,
// and that its settings reach the endpoint.
func TestKeepAlive(t *testing.T) {
	c := echoConn(t)
	if !c.sk.ep.SocketOptions().GetKeepAlive() {
		t.Error("keep-alive off on a new connection")
	}
	if err := c.SetKeepAlivePeriod(42 * time.Second); err != nil {
		t.Fatal(err)
	}
	var idle tcpip.KeepaliveIdleOption
	if err := c.sk.ep.GetSockOpt(&idle); err != nil || time.Duration(idle) != 42*time.Second {
		t.Errorf("keep-alive idle %v (%v), want 42s", time.Duration(idle), err)
	}
	if err := c.SetKeepAlive(false); err != nil || c.sk.ep.SocketOptions().GetKeepAlive() {
		t.Errorf("SetKeepAlive(false): %v", err)
	}
}

// TestLoopback checks that a stack reaches itself through lo.
func TestLoopback(t *testing.T) {
	a, _ := pair(t)
	l, err := a.Listen(ctxTimeout(t, time.Second), "tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", fmt.Sprintf("localhost:%d", l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Errorf("read %q, %v", buf, err)
	}
}

// TestTCPOptions pins the stack's TCP settings: SACK, receive-buffer
// moderation, buffer sizes large enough for window scaling, no Nagle.
func TestTCPOptions(t *testing.T) {
	a, _ := pair(t)
	var sack tcpip.TCPSACKEnabled
	var moderate tcpip.TCPModerateReceiveBufferOption
	var delay tcpip.TCPDelayEnabled
	var rcv tcpip.TCPReceiveBufferSizeRangeOption
	var snd tcpip.TCPSendBufferSizeRangeOption
	for _, o := range []tcpip.GettableTransportProtocolOption{&sack, &moderate, &delay, &rcv, &snd} {
		if err := a.gv.TransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			t.Fatalf("%T: %s", o, err)
		}
	}
	if !bool(sack) || !bool(moderate) || bool(delay) {
		t.Errorf("SACK %v, moderation %v, Nagle %v; want true, true, false", sack, moderate, delay)
	}
	if rcv.Default <= 64<<10 || rcv.Max < rcv.Default || snd.Default <= 64<<10 {
		t.Errorf("buffers: receive %+v, send %+v", rcv, snd)
	}
}
