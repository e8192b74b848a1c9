package stack

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// TestSmallFramesOnLargeLink sends many TCP segments much smaller than a
// link's frames, which may be 64 KiB (user-mode networking's MTU), to a
// reader that does not read yet: the queued segments must cost about
// their size, not a 64 KiB receive buffer each.
func TestSmallFramesOnLargeLink(t *testing.T) {
	for _, tc := range []struct {
		segments, size int
		maxGrowth      int64
	}{
		{2000, 100, 16 << 20}, // ~2 MiB measured; a 64 KiB buffer a segment: ~100 MiB
		{32, 8000, 5 << 18},   // ~0.3 MiB measured; a 64 KiB buffer a segment: ~2.2 MiB
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.segments, tc.size), func(t *testing.T) {
			testSmallFramesOnLargeLink(t, tc.segments, tc.size, tc.maxGrowth)
		})
	}
}

func testSmallFramesOnLargeLink(t *testing.T, segments, size int, maxGrowth int64) {
	const mtu = 65520
	devA, devB := netdevtest.Pipe(macA, macB, mtu)
	a := newStack(t, Config{NICs: []NICConfig{{Device: devA, IPv4: ip4A}}})
	b := newStack(t, Config{NICs: []NICConfig{{Device: devB, IPv4: ip4B}}})
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer s.Close()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	msg := make([]byte, size)
	// All of it fits the receive window; a write that blocks all the same
	// fails the test rather than hang it.
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for range segments {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		// One segment a write: let each go before the next is queued.
		time.Sleep(20 * time.Microsecond)
	}
	time.Sleep(200 * time.Millisecond) // the last ones arrive
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew by %d KiB", grown>>10)
	if grown > maxGrowth {
		t.Errorf("heap grew by %d KiB holding %d segments of %d bytes, want at most %d KiB",
			grown>>10, segments, size, maxGrowth>>10)
	}
	got, err := io.ReadFull(s, make([]byte, segments*size))
	if err != nil {
		t.Fatalf("read %d of %d bytes: %v", got, segments*size, err)
	}
}
