package stack

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morgana-os/morgana/ackdelay"
	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

// Addresses of the two stacks of pair.
var (
	ip4A = netip.MustParsePrefix("10.0.0.1/24")
	ip4B = netip.MustParsePrefix("10.0.0.2/24")
	ip6A = netip.MustParsePrefix("fd00::1/64")
	ip6B = netip.MustParsePrefix("fd00::2/64")
)

// pair returns two stacks over the two ends of a netdevtest.Pipe, with the
// static addresses above.
func pair(t testing.TB) (a, b *Stack) {
	return pairWith(t,
		NICConfig{IPv4: ip4A, IPv6: ip6A},
		NICConfig{IPv4: ip4B, IPv6: ip6B})
}

// pairWith returns two stacks over a pipe, configured by ca and cb (their
// Device fields are filled in).
func pairWith(t testing.TB, ca, cb NICConfig) (a, b *Stack) {
	t.Helper()
	devA, devB := netdevtest.Pipe(macA, macB, 1500)
	ca.Device, cb.Device = devA, devB
	return newStack(t, Config{NICs: []NICConfig{ca}}), newStack(t, Config{NICs: []NICConfig{cb}})
}

// pairOver is pair over a pipe with offload (netdevtest.PipeVnet) or
// without; frames records the largest frame either stack wrote.
func pairOver(t testing.TB, vnet bool) (a, b *Stack, frames *frameRecorder) {
	t.Helper()
	pipe := netdevtest.Pipe
	if vnet {
		pipe = netdevtest.PipeVnet
	}
	devA, devB := pipe(macA, macB, 1500)
	frames = &frameRecorder{}
	ca := NICConfig{Device: &recordingDevice{devA, frames}, IPv4: ip4A, IPv6: ip6A}
	cb := NICConfig{Device: &recordingDevice{devB, frames}, IPv4: ip4B, IPv6: ip6B}
	return newStack(t, Config{NICs: []NICConfig{ca}}), newStack(t, Config{NICs: []NICConfig{cb}}), frames
}

// frameRecorder keeps the size of the largest frame written, and counts
// the pure TCP ACKs among them.
type frameRecorder struct{ max, pureACKs atomic.Int64 }

func (r *frameRecorder) record(n int) {
	for old := r.max.Load(); int64(n) > old && !r.max.CompareAndSwap(old, int64(n)); old = r.max.Load() {
	}
}

// recordingDevice is a device whose writes a frameRecorder sees.
type recordingDevice struct {
	netdev.Device
	r *frameRecorder
}

func (d *recordingDevice) Write(frames [][]byte) (int, error) {
	for _, f := range frames {
		d.r.record(len(f))
		if ackdelay.PureACK(f) {
			d.r.pureACKs.Add(1)
		}
	}
	return d.Device.Write(frames)
}

// newStack builds a stack that logs to the test and closes with it.
func newStack(t testing.TB, cfg Config) *Stack {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testLogger logs to t's output until the test ends: stacks log from
// goroutines, which must not write to a finished test.
func testLogger(t testing.TB) *slog.Logger {
	w := &gatedWriter{w: t.Output()}
	t.Cleanup(w.close) // registered first, so it runs after the stacks close
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type gatedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gatedWriter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// waitAddr waits until s has address a on some interface, and its
// duplicate address detection, if any, is over.
func waitAddr(t testing.TB, s *Stack, a netip.Addr) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.hasUsableAddr(a) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("address %v never became usable; interfaces: %+v", a, s.Interfaces())
}

func hasPrefix(s *Stack, p netip.Prefix) bool {
	for _, ifc := range s.Interfaces() {
		if slices.Contains(ifc.Addrs, p) {
			return true
		}
	}
	return false
}

// ctxTimeout is a context for one step of a test.
func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// hostPort is a dial address for a and port.
func hostPort(a netip.Addr, port int) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// hasUsableAddr reports whether a is assigned to one of s's interfaces
// and not tentative (duplicate address detection is over).
func (s *Stack) hasUsableAddr(a netip.Addr) bool {
	return s.gv.CheckLocalAddress(0, protoOf(a), addrToTCPIP(a)) != 0
}
