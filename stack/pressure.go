package stack

import (
	"cmp"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"

	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Memory pressure. gVisor's TCP keeps every connection's queues on the Go
// heap and has no bound on their sum, as Linux has tcp_mem: clients that
// send requests and never read the answers make each connection hold a
// full receive buffer and a full send buffer, and a few hundred of them
// exhaust a VM's memory, whatever the program does.
//
// So the stack watches the memory the Go runtime holds against its limit
// (GOMEMLIMIT, which morgana run sets in a VM). Once it holds half of it,
// the stack shares what is left out among the TCP connections: no
// connection's send buffer may exceed its share, a quarter of the memory
// left divided by the number of connections (4 KiB at least), nor its
// receive buffer (64 KiB at least: under that, a peer's segments already
// in flight, its FIN among them, would be dropped and sent again only
// after backing off, long enough to stall a graceful shutdown), and the
// shares are made again at each look. TCP reads the sizes as it queues,
// so a connection over its share takes no more data (the peer sends it
// again later) and its writes block, as Linux's do over tcp_mem;
// the memory the connections can still take is at most half of what is
// left, at every look, so it cannot run out. A program that holds much
// memory of its own with few connections keeps large shares. The garbage
// collector also runs sooner meanwhile (GOGC 25): what the queues still
// take is mostly dropped again, and at the default GOGC the heap would
// grow to twice what is live, against a limit that is soft, under --mem,
// which is not. Pressure ends, and the buffers get their sizes back, when
// the heap's objects (live, or not yet swept) are under a quarter of the
// limit.
//
// Watching costs a read of runtime/metrics per pressureEvery bytes that
// connections receive or queue to send (a connection accepted counts as
// pressureAccept bytes); the shares go through the stack's registered
// endpoints, at each look under pressure.

const (
	pressureEvery     = 1 << 20
	pressureAccept    = 64 << 10
	pressureGCPercent = 25
	// pressureReceiveMin is the least a receive buffer is lowered to.
	pressureReceiveMin = 64 << 10
)

// pressure is a stack's memory guard; nil when the program has no memory
// limit.
type pressure struct {
	gv    *gvstack.Stack
	log   *slog.Logger
	limit uint64

	due atomic.Int64 // bytes until the next look

	mu      sync.Mutex
	on      bool
	lowered map[*tcp.Endpoint]*lowered
	gogc    int // the program's GOGC, while under pressure
	samples [3]metrics.Sample
}

// lowered is a connection's buffer sizes before pressure (was) and as the
// guard last set them (set); zero for a size it has not touched.
type lowered struct{ was, set bufferSizes }

// bufferSizes are a connection's SO_RCVBUF and SO_SNDBUF.
type bufferSizes struct{ rcv, snd int64 }

// newPressure returns the guard for a memory limit of limit bytes (0: the
// program's, from GOMEMLIMIT; negative: none), or nil without one.
func newPressure(gv *gvstack.Stack, log *slog.Logger, limit int64) *pressure {
	if limit == 0 {
		limit = debug.SetMemoryLimit(-1)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		return nil
	}
	p := &pressure{gv: gv, log: log, limit: uint64(limit)}
	p.samples[0].Name = "/memory/classes/total:bytes"
	p.samples[1].Name = "/memory/classes/heap/released:bytes"
	p.samples[2].Name = "/memory/classes/heap/objects:bytes"
	p.due.Store(pressureEvery)
	return p
}

// count counts n bytes received or queued to send, and looks at the
// memory when due.
func (p *pressure) count(n int) {
	if p != nil && p.due.Add(-int64(n)) <= 0 {
		p.check()
	}
}

// accepted counts a connection accepted, and looks at the memory when due.
func (p *pressure) accepted() { p.count(pressureAccept) }

// memory returns the memory the Go runtime holds, as GOMEMLIMIT counts
// it, and how much of it is heap objects.
func (p *pressure) memory() (held, objects uint64) {
	metrics.Read(p.samples[:])
	total, released := p.samples[0].Value.Uint64(), p.samples[1].Value.Uint64()
	if released < total {
		held = total - released
	}
	return held, p.samples[2].Value.Uint64()
}

// underPressure says whether memory is short, given whether it was.
func underPressure(on bool, limit, held, objects uint64) bool {
	if on {
		return objects >= limit/4
	}
	return held >= limit/2
}

// share is the most a connection's buffer may hold when n connections
// share what is left of the limit: with two buffers each, they can take
// half of it.
func share(limit, held uint64, n int) int64 {
	if n < 1 {
		n = 1
	}
	var left uint64
	if held < limit {
		left = limit - held
	}
	return max(int64(left/4/uint64(n)), tcpBufferMin)
}

// check looks at the memory and acts on it.
func (p *pressure) check() {
	if !p.mu.TryLock() {
		return // another goroutine is looking
	}
	defer p.mu.Unlock()
	p.due.Store(pressureEvery)
	p.apply(p.memory())
}

// apply enters, keeps up or ends the pressure for the memory held and the
// heap's objects.
func (p *pressure) apply(held, objects uint64) {
	on := underPressure(p.on, p.limit, held, objects)
	switch {
	case on && !p.on:
		p.on = true
		p.lowered = make(map[*tcp.Endpoint]*lowered)
		p.gogc = debug.SetGCPercent(pressureGCPercent)
		n, s := p.shareOut(held)
		p.log.Warn("memory pressure: TCP buffers shared out", "held", held, "limit", p.limit, "connections", n, "share", s)
	case !on && p.on:
		p.on = false
		n := p.restore()
		if gogc := debug.SetGCPercent(p.gogc); gogc != pressureGCPercent {
			debug.SetGCPercent(gogc) // the program set its own since
		}
		p.log.Info("memory pressure over: TCP buffers restored", "held", held, "objects", objects, "connections", n)
	case on:
		n, s := p.shareOut(held)
		p.log.Debug("memory pressure", "held", held, "objects", objects, "connections", n, "share", s)
	}
}

// shareOut lowers every TCP connection's buffers that exceed their share
// of the memory left, and forgets the connections that are gone. It
// returns the number of connections and the share.
func (p *pressure) shareOut(held uint64) (int, int64) {
	var eps []*tcp.Endpoint
	for _, te := range p.gv.RegisteredEndpoints() {
		if ep, ok := te.(*tcp.Endpoint); ok {
			eps = append(eps, ep)
		}
	}
	s := share(p.limit, held, len(eps))
	live := make(map[*tcp.Endpoint]bool, len(eps))
	for _, ep := range eps {
		live[ep] = true
		ops := ep.SocketOptions()
		rcv, snd := ops.GetReceiveBufferSize(), ops.GetSendBufferSize()
		rcvShare := max(s, pressureReceiveMin)
		if rcv <= rcvShare && snd <= s {
			continue
		}
		l := p.lowered[ep]
		if l == nil {
			l = &lowered{}
			p.lowered[ep] = l
		}
		if rcv > rcvShare {
			l.was.rcv = cmp.Or(l.was.rcv, rcv)
			l.set.rcv = rcvShare
			// The receive buffer's auto-tuning grows it only as the
			// program reads, so it stays on: no notification.
			ops.SetReceiveBufferSize(rcvShare, false)
		}
		if snd > s {
			l.was.snd = cmp.Or(l.was.snd, snd)
			l.set.snd = s
			// The send buffer's auto-tuning would grow it back at the
			// next ACK, so it goes off, for good: gVisor cannot turn it
			// on again (the size restored is the one it had reached).
			ops.SetSendBufferSize(s, true)
		}
	}
	for ep := range p.lowered {
		if !live[ep] {
			delete(p.lowered, ep)
		}
	}
	return len(eps), s
}

// restore gives the lowered connections still registered their sizes
// back, where nothing set other sizes since. It returns how many.
func (p *pressure) restore() int {
	n := 0
	for _, te := range p.gv.RegisteredEndpoints() {
		ep, ok := te.(*tcp.Endpoint)
		if !ok {
			continue
		}
		l := p.lowered[ep]
		if l == nil {
			continue
		}
		ops := ep.SocketOptions()
		if l.set.rcv != 0 && ops.GetReceiveBufferSize() == l.set.rcv {
			ops.SetReceiveBufferSize(l.was.rcv, false)
		}
		if l.set.snd != 0 && ops.GetSendBufferSize() == l.set.snd {
			// Notified: a writer blocked for room under the share is
			// woken only when the queue falls under half the buffer,
			// which, once the buffer is larger, it may already be.
			ops.SetSendBufferSize(l.was.snd, true)
		}
		n++
	}
	p.lowered = nil
	return n
}
