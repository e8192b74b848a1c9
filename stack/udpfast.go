package stack

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/morgana-os/morgana/netdev"
)

// The UDP fast path: datagrams between a server's socket (ListenPacket)
// and its clients over IPv4 skip gVisor's netstack both ways.
//
// In: the link endpoint's reader looks at each frame before gVisor does.
// A UDP datagram to a port a fast socket is bound to (on that address or
// every address), unicast to one of the NIC's IPv4 addresses from an
// ordinary unicast sender, with neither IP options nor fragmentation, is
// checked (checksums) and copied into the socket's queue; the frame never
// reaches gVisor. Everything else goes to gVisor as before: IPv6, options,
// fragments, broadcast, multicast, ports without a fast socket (which
// gVisor answers with ICMP port unreachable), and whatever the fast path
// does not understand. The socket stays bound in gVisor too, and ReadFrom
// returns datagrams from both: its own queue and gVisor's endpoint.
//
// Out: a socket remembers, for each peer it received from recently (a
// small cache keyed by the peer's IP), the Ethernet source of the peer's
// last frame (its next hop), the NIC it came in on and the local address
// it was sent to. WriteTo such a peer builds the frame itself (IPv4 header
// as Linux's: DF, ID 0, TTL 64; checksums computed) from that local
// address to that next hop, and writes it through the link endpoint as
// gVisor's packets go; the answer leaves the way the question came in. A
// WriteTo anywhere else goes through gVisor, which routes and resolves
// the neighbor as usual.

// Limits of the fast path.
const (
	// peerCacheSize is the number of peers a socket remembers, in a
	// direct-mapped cache: two peers may evict each other, which costs a
	// trip through gVisor, nothing more.
	peerCacheBits = 8
	peerCacheSize = 1 << peerCacheBits
	// peerTTL is how long a peer is remembered after its last datagram.
	peerTTL = 30 * time.Second
	// datagramOverhead is what a queued datagram costs against the
	// socket's receive buffer beyond its payload, as a socket buffer
	// counts its bookkeeping.
	datagramOverhead = 256
	// keepBufferMax is the largest payload buffer a queue keeps for reuse
	// (as many as it has held datagrams at once); larger ones, for
	// datagrams beyond an Ethernet MTU, are left to the GC.
	keepBufferMax = 2048
)

// FastPathStats counts the datagrams of a stack's UDP fast path.
type FastPathStats struct {
	Received       uint64 // datagrams queued to sockets or answered inline
	Inline         uint64 // datagrams answered inline (UDPConn.ServeInline)
	Sent           uint64 // datagrams sent
	QueueDrops     uint64 // datagrams dropped: their socket's queue was full
	ChecksumErrors uint64 // datagrams dropped: bad IP header or UDP checksum
	WriteMisses    uint64 // WriteTo on a fast socket to a peer not in its cache (sent through gVisor)
}

// fastPath is a stack's UDP fast path: its sockets by port, and its NICs.
type fastPath struct {
	mu    sync.Mutex                             // serializes changes of socks
	socks atomic.Pointer[map[uint16][]*fastSock] // copied on change
	links []*linkEndpoint                        // by fastIndex; fixed once New returns

	received, inline, sent, queueDrops, checksumErrors, writeMisses atomic.Uint64
}

func (fp *fastPath) addLink(e *linkEndpoint, id tcpip.NICID) {
	e.fast = fp
	e.nicID = id
	e.fastIndex = uint16(len(fp.links))
	fp.links = append(fp.links, e)
}

func (fp *fastPath) stats() FastPathStats {
	return FastPathStats{
		Received:       fp.received.Load(),
		Inline:         fp.inline.Load(),
		Sent:           fp.sent.Load(),
		QueueDrops:     fp.queueDrops.Load(),
		ChecksumErrors: fp.checksumErrors.Load(),
		WriteMisses:    fp.writeMisses.Load(),
	}
}

// FastPathStats returns the counters of the UDP fast path; all zero when
// Config.DisableUDPFastPath turned it off. Datagrams of the fast path are
// not in gVisor's statistics.
func (s *Stack) FastPathStats() FastPathStats {
	if s.fast == nil {
		return FastPathStats{}
	}
	return s.fast.stats()
}

// lookup returns the socket bound to port and dst, or to port and every
// address, or nil.
func (fp *fastPath) lookup(port uint16, dst [4]byte) *fastSock {
	m := fp.socks.Load()
	if m == nil {
		return nil
	}
	var wildcard *fastSock
	for _, s := range (*m)[port] {
		if s.any {
			wildcard = s
		} else if s.addr == dst {
			return s
		}
	}
	return wildcard
}

// register gives sk, just bound by ListenPacket, a fast path if it can
// receive IPv4 (udp4, or udp on every address) on an address of any NIC;
// it returns nil for other sockets.
func (fp *fastPath) register(sk *socket) *fastSock {
	la, err := sk.ep.GetLocalAddress()
	if err != nil || la.Port == 0 {
		return nil
	}
	s := &fastSock{fp: fp, ep: sk.ep, wq: sk.wq, port: la.Port, nic: la.NIC,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	switch a := addrFromTCPIP(la.Addr); {
	case !a.IsValid() && sk.proto == ipv4.ProtocolNumber:
		s.any = true
	case !a.IsValid() && sk.proto == ipv6.ProtocolNumber && !sk.ep.SocketOptions().GetV6Only():
		s.any = true // dual-stack
	case a.Is4() && !a.IsLoopback():
		s.addr = a.As4()
	default:
		return nil
	}
	if size := sk.ep.SocketOptions().GetReceiveBufferSize(); size > 0 {
		s.q.limit = int(size)
	} else {
		s.q.limit = 64 << 10
	}
	s.slowReady.Store(true) // a datagram may have come through gVisor already
	s.entry = waiter.NewFunctionEntry(waiter.ReadableEvents|waiter.EventErr|waiter.EventHUp, func(waiter.EventMask) {
		s.slowReady.Store(true)
		s.signal()
	})
	s.wq.EventRegister(&s.entry)

	fp.mu.Lock()
	defer fp.mu.Unlock()
	m := make(map[uint16][]*fastSock)
	if old := fp.socks.Load(); old != nil {
		for p, l := range *old {
			m[p] = l
		}
	}
	m[s.port] = append(m[s.port][:len(m[s.port]):len(m[s.port])], s)
	fp.socks.Store(&m)
	return s
}

func (fp *fastPath) unregister(s *fastSock) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	old := fp.socks.Load()
	if old == nil {
		return
	}
	m := make(map[uint16][]*fastSock, len(*old))
	for p, l := range *old {
		m[p] = l
	}
	var keep []*fastSock
	for _, o := range m[s.port] {
		if o != s {
			keep = append(keep, o)
		}
	}
	if len(keep) == 0 {
		delete(m, s.port)
	} else {
		m[s.port] = keep
	}
	fp.socks.Store(&m)
}

// fastSock is the fast path of one socket: its queue, its peers, and the
// state ReadFrom needs to wait on both paths.
type fastSock struct {
	fp   *fastPath
	ep   tcpip.Endpoint
	wq   *waiter.Queue
	port uint16
	addr [4]byte // the bound address, unless any
	any  bool
	nic  tcpip.NICID // the NIC of the bound address; 0 with any

	q      datagramQueue
	peers  peerCache
	inline atomic.Pointer[InlineHandler] // answers datagrams on the NIC's reader (udpfast_inline.go)

	// wake holds a token when a reader may find a datagram: the queue
	// went from empty to not, gVisor's endpoint became readable, or a
	// reader left some behind.
	wake      chan struct{}
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	entry     waiter.Entry // gVisor's readiness, registered on wq
	// slowReady is set when gVisor's endpoint may hold a datagram (or
	// an error), and cleared by a reader that finds it empty.
	slowReady atomic.Bool
	lastSlow  atomic.Bool // the last datagram read came through gVisor

	rd            deadline
	writeDeadline atomic.Int64 // UnixNano; 0 for none
}

func (s *fastSock) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close takes s off the fast path and wakes its readers.
func (s *fastSock) close() {
	s.closeOnce.Do(func() {
		s.fp.unregister(s)
		s.wq.EventUnregister(&s.entry)
		close(s.done)
	})
}

// takeUDP looks at a frame the reader got from the device (with its
// virtio-net header on a device with offload) and reports whether it was
// a datagram of the fast path, now queued or dropped; gVisor gets the
// frame otherwise. now is monoNow at the batch's arrival.
func (e *linkEndpoint) takeUDP(frame []byte, now int64) bool {
	trusted := false
	if e.vnet {
		if len(frame) < netdev.VnetHdrLen {
			return false
		}
		h := netdev.DecodeVnetHdr(frame)
		switch {
		case h.GSOType != netdev.VnetGSONone:
			return false
		case h.Flags&netdev.VnetNeedsCsum != 0:
			// The data comes from the host itself, its UDP checksum is
			// only the pseudo-header's: trusted, if it is where a UDP
			// checksum would be.
			if h.CsumStart != udpCsumStart || h.CsumOffset != udpCsumOffset {
				return false
			}
			trusted = true
		case h.Flags&netdev.VnetDataValid != 0:
			trusted = true
		}
		frame = frame[netdev.VnetHdrLen:]
	}
	var d udp4Datagram
	if !parseUDP4(frame, e.addr, &d) || d.srcPort == 0 {
		return false
	}
	addrs := e.fastAddrs.Load()
	if addrs == nil || !addrs.isLocal(d.dst) || !addrs.ordinarySource(d.src) {
		return false
	}
	s := e.fast.lookup(d.dstPort, d.dst)
	if s == nil || s.nic != 0 && s.nic != e.nicID || s.ep.SocketOptions().GetBindToDevice() != 0 {
		return false
	}
	if !d.checksumsValid(trusted) {
		e.fast.checksumErrors.Add(1)
		return true
	}
	s.peers.update(d.src, d.dst, d.srcMAC, e.fastIndex, now)
	if h := s.inline.Load(); h != nil {
		e.takeInline(*h, &d)
		return true
	}
	// Counted first: a reader may have the datagram as soon as it is queued.
	e.fast.received.Add(1)
	first, ok := s.q.push(d.udp.Payload(), netip.AddrPortFrom(netip.AddrFrom4(d.src), d.srcPort))
	if !ok {
		e.fast.received.Add(^uint64(0))
		e.fast.queueDrops.Add(1)
		return true
	}
	if first {
		s.signal()
	}
	return true
}

// read returns the next datagram of either path, as ReadFrom: the errors
// are gonet's, for UDPConn.fix to turn into the standard library's.
func (s *fastSock) read(c *UDPConn, b []byte) (int, netip.AddrPort, error) {
	for {
		if s.rd.passed() {
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: os.ErrDeadlineExceeded}
		}
		select {
		case <-s.done:
			return 0, netip.AddrPort{}, net.ErrClosed
		default:
		}
		// Take turns, so that neither path starves the other.
		if !s.lastSlow.Load() {
			if n, from, err, ok := s.readSlow(c, b); ok {
				return n, from, err
			}
		}
		if n, from, ok := s.q.pop(b); ok {
			s.lastSlow.Store(false)
			s.leftBehind()
			return n, from, nil
		}
		if n, from, err, ok := s.readSlow(c, b); ok {
			return n, from, err
		}
		var w blocker // readers may be many: a timer each, when there is a deadline
		w.wait(&s.rd, s.wake, s.done)
	}
}

// readSlow reads a datagram from gVisor's endpoint, if it may have one;
// ok is false if it has none.
func (s *fastSock) readSlow(c *UDPConn, b []byte) (n int, from netip.AddrPort, err error, ok bool) {
	if !s.slowReady.Load() {
		return 0, from, nil, false
	}
	s.slowReady.Store(false) // before Read: a datagram arriving after it sets it again
	w := tcpip.SliceWriter(b)
	res, terr := s.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
	if _, block := terr.(*tcpip.ErrWouldBlock); block {
		return 0, from, nil, false
	}
	s.slowReady.Store(true) // gVisor notifies only when its queue was empty: look again next time
	s.lastSlow.Store(true)
	s.leftBehind()
	switch terr.(type) {
	case nil:
	case *tcpip.ErrClosedForReceive:
		return 0, from, io.EOF, true // as gonet
	default:
		return 0, from, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: errors.New(terr.String())}, true
	}
	from = netip.AddrPortFrom(addrFromTCPIP(res.RemoteAddr.Addr), res.RemoteAddr.Port)
	return res.Count, from, nil, true
}

// leftBehind passes the turn to another reader if there is more to read.
func (s *fastSock) leftBehind() {
	if s.q.len.Load() > 0 || s.slowReady.Load() {
		s.signal()
	}
}

// writeTo sends b to to, an IPv4 peer, if the peer is in the cache; it
// reports false, having sent nothing, when the datagram is gVisor's to
// send (or to fail).
func (s *fastSock) writeTo(b []byte, to netip.AddrPort) bool {
	if dl := s.writeDeadline.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return false // gVisor's path reports the timeout
	}
	if !to.Addr().Is4() || to.Port() == 0 || s.ep.SocketOptions().GetBindToDevice() != 0 {
		return false
	}
	dst := to.Addr().As4()
	local, mac, link, ok := s.peers.lookup(dst, monoNow())
	if !ok || int(link) >= len(s.fp.links) {
		s.fp.writeMisses.Add(1)
		return false
	}
	e := s.fp.links[link]
	if addrs := e.fastAddrs.Load(); addrs == nil || !addrs.isLocal(local) || len(b)+udp4Overhead > e.ipMTU() {
		return false
	}
	o := udp4Out{dstMAC: mac, src: local, dst: dst, srcPort: s.port, dstPort: to.Port(), payload: b}
	return e.sendUDP4(&o) == nil
}

// sendUDP4 sends a datagram of the fast path and counts it.
func (e *linkEndpoint) sendUDP4(o *udp4Out) tcpip.Error {
	e.fast.sent.Add(1) // counted first: the peer may answer before the write returns
	if err := e.writeUDP4(o); err != nil {
		e.fast.sent.Add(^uint64(0))
		return err
	}
	return nil
}

// ipMTU is the largest IP packet the device sends.
func (e *linkEndpoint) ipMTU() int { return int(e.mtu) - netdev.EthernetHeaderLen }

// writeUDP4 sends one datagram of the fast path, as WritePackets sends
// gVisor's: under wmu, in the endpoint's frame buffers, with an empty
// virtio-net header (checksums complete) on a device with offload.
func (e *linkEndpoint) writeUDP4(o *udp4Out) tcpip.Error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	buf := e.bufs[0]
	if buf == nil {
		buf = make([]byte, e.frameLen)
		e.bufs[0] = buf
	}
	n := 0
	if e.vnet {
		clear(buf[:netdev.VnetHdrLen])
		n = netdev.VnetHdrLen
	}
	if n+udp4HeadersLen+len(o.payload) > len(buf) {
		return &tcpip.ErrMessageTooLong{}
	}
	n += encodeUDP4(buf[n:], e.addr, o)
	return e.write(append(e.frames[:0], buf[:n]))
}

// fastAddrs are a NIC's IPv4 addresses, for the fast path.
type fastAddrs []fastAddr

type fastAddr struct {
	addr      [4]byte
	broadcast [4]byte // of its subnet
	hasBcast  bool    // subnets of /31 and /32 have none (RFC 3021)
}

// isLocal reports whether a is one of the addresses.
func (as *fastAddrs) isLocal(a [4]byte) bool {
	for i := range *as {
		if (*as)[i].addr == a {
			return true
		}
	}
	return false
}

// ordinarySource reports whether a datagram from a may take the fast path:
// gVisor drops those from broadcast, multicast, loopback, its own and its
// subnets' broadcast addresses, and "this network" (0.0.0.0/8) is for
// DHCP; all go to gVisor.
func (as *fastAddrs) ordinarySource(a [4]byte) bool {
	if a[0] == 0 || a[0] == 127 || a[0] >= 224 {
		return false
	}
	for i := range *as {
		if f := &(*as)[i]; f.addr == a || f.hasBcast && f.broadcast == a {
			return false
		}
	}
	return true
}

// setFastAddr adds (add) or removes p, an address of the NIC, from the
// addresses the fast path takes datagrams to.
func (e *linkEndpoint) setFastAddr(p netip.Prefix, add bool) {
	a := p.Addr().Unmap()
	if e == nil || e.fast == nil || !a.Is4() || a.IsUnspecified() {
		return
	}
	e.fastMu.Lock()
	defer e.fastMu.Unlock()
	var next fastAddrs
	if old := e.fastAddrs.Load(); old != nil {
		for _, f := range *old {
			if f.addr != a.As4() {
				next = append(next, f)
			}
		}
	}
	if add {
		f := fastAddr{addr: a.As4()}
		if p.Bits() <= 30 {
			last := p.Masked().Addr().As4()
			for i := range last {
				last[i] |= byte(0xff >> min(8, max(0, p.Bits()-8*i)))
			}
			f.broadcast, f.hasBcast = last, true
		}
		// An address that is its subnet's broadcast address is one
		// gVisor delivers as broadcast.
		if !f.hasBcast || f.broadcast != f.addr {
			next = append(next, f)
		}
	}
	e.fastAddrs.Store(&next)
}

// datagramQueue is a socket's queue of fast-path datagrams, bounded as a
// socket's receive buffer is: each datagram costs its length and
// datagramOverhead against limit, and one that does not fit is dropped.
type datagramQueue struct {
	mu    sync.Mutex
	ring  []queued // allocated on first use; limit/datagramOverhead entries
	head  int
	n     int
	bytes int
	limit int
	free  [][]byte // payload buffers for reuse, as many as were ever queued at once
	len   atomic.Int32
}

type queued struct {
	buf  []byte
	from netip.AddrPort
}

// push copies p into the queue; it reports whether it did, and whether
// the queue was empty before.
func (q *datagramQueue) push(p []byte, from netip.AddrPort) (first, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	cost := len(p) + datagramOverhead
	if q.bytes+cost > q.limit {
		return false, false
	}
	if q.ring == nil {
		q.ring = make([]queued, max(1, q.limit/datagramOverhead))
	}
	var buf []byte
	if k := len(q.free); k > 0 {
		buf = q.free[k-1]
		q.free = q.free[:k-1]
	}
	if cap(buf) < len(p) {
		buf = make([]byte, 0, max(len(p), 512)) // one too small is left to the GC
	}
	buf = buf[:len(p)]
	copy(buf, p)
	q.ring[(q.head+q.n)%len(q.ring)] = queued{buf: buf, from: from}
	q.n++
	q.bytes += cost
	q.len.Store(int32(q.n))
	return q.n == 1, true
}

// pop copies the first datagram into b (truncating it, as recvfrom does).
func (q *datagramQueue) pop(b []byte) (int, netip.AddrPort, bool) {
	if q.len.Load() == 0 {
		return 0, netip.AddrPort{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return 0, netip.AddrPort{}, false
	}
	d := &q.ring[q.head]
	n, from, buf := copy(b, d.buf), d.from, d.buf
	*d = queued{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	q.bytes -= len(buf) + datagramOverhead
	q.len.Store(int32(q.n))
	if cap(buf) <= keepBufferMax {
		q.free = append(q.free, buf[:0])
	}
	return n, from, true
}

// peerCache remembers the peers a socket received from: for each, the
// local address its datagram was sent to and where it came from (the NIC
// and the Ethernet source: the next hop). Entries are read without a lock
// (sequence counters); the NICs' readers write them, one at a time.
type peerCache struct {
	mu      sync.Mutex // serializes writers
	entries [peerCacheSize]peerEntry
}

type peerEntry struct {
	seq   atomic.Uint32 // odd while written
	addrs atomic.Uint64 // peer<<32 | local
	hop   atomic.Uint64 // MAC<<16 | NIC (fastIndex+1): 0 when empty
	seen  atomic.Int64  // monoNow of the peer's last datagram
}

func peerSlot(peer uint32) int { return int((peer * 0x9e3779b1) >> (32 - peerCacheBits)) }

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func macBits(m [6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

func (c *peerCache) update(peer, local [4]byte, mac [6]byte, nic uint16, now int64) {
	p := be32(peer)
	addrs := uint64(p)<<32 | uint64(be32(local))
	hop := macBits(mac)<<16 | uint64(nic+1)
	e := &c.entries[peerSlot(p)]
	if e.addrs.Load() == addrs && e.hop.Load() == hop {
		e.seen.Store(now) // the usual case: the same peer again
		return
	}
	c.mu.Lock()
	e.seq.Add(1)
	e.addrs.Store(addrs)
	e.hop.Store(hop)
	e.seen.Store(now)
	e.seq.Add(1)
	c.mu.Unlock()
}

// lookup returns what the cache knows of peer, if it heard from it within
// peerTTL of now. An entry being written is a miss.
func (c *peerCache) lookup(peer [4]byte, now int64) (local [4]byte, mac [6]byte, nic uint16, ok bool) {
	p := be32(peer)
	e := &c.entries[peerSlot(p)]
	seq := e.seq.Load()
	addrs, hop, seen := e.addrs.Load(), e.hop.Load(), e.seen.Load()
	if seq&1 != 0 || e.seq.Load() != seq || hop == 0 || uint32(addrs>>32) != p || now-seen > int64(peerTTL) {
		return local, mac, 0, false
	}
	l := uint32(addrs)
	local = [4]byte{byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l)}
	m := hop >> 16
	mac = [6]byte{byte(m >> 40), byte(m >> 32), byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
	return local, mac, uint16(hop&0xffff) - 1, true
}

// monoBase is where monoNow counts from.
var monoBase = time.Now()

// monoNow is the monotonic clock in nanoseconds.
func monoNow() int64 { return int64(time.Since(monoBase)) }
