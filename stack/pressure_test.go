package stack

import (
	"net"
	"runtime/debug"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func TestUnderPressure(t *testing.T) {
	const limit = 100 << 20
	tests := []struct {
		name          string
		on            bool
		held, objects uint64
		want          bool
	}{
		{"idle", false, 10 << 20, 5 << 20, false},
		{"under half held", false, 49 << 20, 45 << 20, false},
		{"half held", false, 50 << 20, 5 << 20, true},
		{"stays while objects are a quarter", true, 90 << 20, 25 << 20, true},
		{"ends under a quarter", true, 90 << 20, 24 << 20, false},
	}
	for _, tt := range tests {
		if got := underPressure(tt.on, limit, tt.held, tt.objects); got != tt.want {
			t.Errorf("%s: underPressure = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestShare(t *testing.T) {
	const limit = 100 << 20
	tests := []struct {
		name string
		held uint64
		n    int
		want int64
	}{
		{"a quarter of what is left, each", 60 << 20, 10, 1 << 20},
		{"no connections yet", 60 << 20, 0, 10 << 20},
		{"at least the minimum", 99 << 20, 1000, tcpBufferMin},
		{"past the limit", 120 << 20, 10, tcpBufferMin},
	}
	for _, tt := range tests {
		if got := share(limit, tt.held, tt.n); got != tt.want {
			t.Errorf("%s: share = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestPressureSharesOut puts a stack with open connections under memory
// pressure: every TCP endpoint's buffers come down to the share, those of
// a connection made meanwhile too, the garbage collector runs sooner, and
// when pressure ends all of it is undone, except a size the program set
// itself meanwhile.
func TestPressureSharesOut(t *testing.T) {
	a, b := pair(t)
	l, err := b.Listen(ctxTimeout(t, 5*time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	addr := hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port)
	dial := func() (client, server *TCPConn) {
		t.Helper()
		c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return c.(*TCPConn), s.(*TCPConn)
	}
	sizes := func(c *TCPConn) bufferSizes {
		o := c.sk.ep.SocketOptions()
		return bufferSizes{rcv: o.GetReceiveBufferSize(), snd: o.GetSendBufferSize()}
	}
	var servers []*TCPConn
	for range 3 {
		_, s := dial()
		servers = append(servers, s)
	}
	before := sizes(servers[0])
	if before.rcv <= 64<<10 || before.snd <= 64<<10 {
		t.Fatalf("default buffers %+v, want more than the shares below", before)
	}

	const limit = 64 << 20
	p := newPressure(b.gv, testLogger(t), limit)
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	t.Cleanup(func() { debug.SetGCPercent(gogc) })

	// 62 MiB held leaves 2; the TCP endpoints (the listener's and three
	// connections') share a quarter of it: at most 128 KiB each, less than
	// both default buffers.
	p.apply(62<<20, 40<<20)
	if !p.on {
		t.Fatal("not under pressure at 62 MiB of 64")
	}
	want := share(limit, 62<<20, tcpEndpoints(b))
	if want > 128<<10 {
		t.Fatalf("share %d, want at most 128 KiB", want)
	}
	for i, s := range servers {
		if got := sizes(s); got.rcv != max(want, pressureReceiveMin) || got.snd != want {
			t.Errorf("connection %d: buffers %+v under pressure, want %d (to receive, %d at least)", i, got, want, pressureReceiveMin)
		}
	}
	if got := debug.SetGCPercent(pressureGCPercent); got != pressureGCPercent {
		t.Errorf("GOGC %d under pressure, want %d", got, pressureGCPercent)
	}

	// A connection made under pressure gets its share at the next look,
	// which is smaller now.
	_, late := dial()
	p.apply(63<<20, 44<<20)
	want = share(limit, 63<<20, tcpEndpoints(b))
	if got := sizes(late); got.rcv != max(want, pressureReceiveMin) || got.snd != want {
		t.Errorf("connection made under pressure: buffers %+v, want %d (to receive, %d at least)", got, want, pressureReceiveMin)
	}
	if err := servers[1].SetReadBuffer(8 << 10); err != nil {
		t.Fatal(err)
	}

	p.apply(30<<20, 10<<20)
	if p.on {
		t.Fatal("still under pressure with the objects under a quarter")
	}
	if got := sizes(servers[0]); got != before {
		t.Errorf("buffers %+v after the pressure, want %+v back", got, before)
	}
	if got := sizes(servers[1]).rcv; got != 8<<10 {
		t.Errorf("receive buffer %d after the pressure, want the 8 KiB the program set", got)
	}
	if got := sizes(late); got != before {
		t.Errorf("connection made under pressure: buffers %+v after it, want %+v", got, before)
	}
	if got := debug.SetGCPercent(gogc); got != gogc {
		t.Errorf("GOGC %d after the pressure, want %d back", got, gogc)
	}
}

// tcpEndpoints counts the TCP endpoints the stack has registered, as the
// guard does.
func tcpEndpoints(s *Stack) int {
	n := 0
	for _, ep := range s.gv.RegisteredEndpoints() {
		if _, ok := ep.(*tcp.Endpoint); ok {
			n++
		}
	}
	return n
}
