package usernet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Network is a running user-mode network: the gateway's netstack on the
// link and the host sockets of its forwards. Its methods may be called
// concurrently.
type Network struct {
	cfg      Config
	log      *slog.Logger
	link     *link
	stack    *stack.Stack
	forwards []Forward // with the host addresses bound
	tcp      []*tcpForward
	udp      []*udpForward
	outFlows *flowCount

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	closers map[io.Closer]struct{} // open sockets and connections
	conns   int                    // relayed TCP connections
	wg      sync.WaitGroup         // every goroutine of the network

	closeOnce sync.Once
}

// Start serves the link: link is the monitor's end of the guest's NIC, one
// frame per read and per write (a SOCK_SEQPACKET end from Socketpair, or a
// TAP). Start takes ownership of link, also when it fails. It binds every
// forward's host socket before it returns, and an error names the flag:
//
//	-p 8080:80: listen tcp 0.0.0.0:8080: bind: address already in use
func Start(link *os.File, cfg Config) (*Network, error) {
	n, err := start(link, cfg)
	if err != nil {
		link.Close()
		return nil, err
	}
	return n, nil
}

func start(linkFile *os.File, cfg Config) (*Network, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < 1280 || cfg.MTU > MaxMTU {
		return nil, fmt.Errorf("usernet: MTU %d is out of range (1280-%d)", cfg.MTU, MaxMTU)
	}
	if cfg.UDPIdle <= 0 {
		cfg.UDPIdle = defaultUDPIdle
	}
	if cfg.GuestMAC != nil && (len(cfg.GuestMAC) != 6 || cfg.GuestMAC[0]&1 != 0) {
		return nil, fmt.Errorf("usernet: guest MAC %v is not a unicast Ethernet address", cfg.GuestMAC)
	}
	for _, f := range cfg.Forwards {
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("-p %s: %w", f, err)
		}
	}
	if cfg.Outbound && cfg.Resolvers == nil {
		cfg.Resolvers = readResolvConf(resolvConf, cfg.Log)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := &Network{
		cfg:      cfg,
		log:      cfg.Log,
		ctx:      ctx,
		cancel:   cancel,
		closers:  make(map[io.Closer]struct{}),
		outFlows: &flowCount{max: maxUDPFlows},
	}
	// The host's sockets first: a port already taken is the likeliest
	// failure, and nothing else has started yet.
	if err := n.bind(); err != nil {
		n.Close()
		return nil, err
	}

	var err error
	if n.link, err = newLink(linkFile, cfg.MTU, GatewayMAC, admit, n.log); err != nil {
		n.Close()
		return nil, fmt.Errorf("usernet: %w", err)
	}
	if n.stack, err = newStack(n.link, cfg.Outbound, cfg.GuestMAC); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.startDHCP(); err != nil {
		n.Close()
		return nil, err
	}
	if cfg.Outbound {
		n.startOutbound()
	}
	n.link.start()
	for _, f := range n.tcp {
		n.spawn(f.serve)
	}
	for _, f := range n.udp {
		n.spawn(f.serve)
	}
	n.log.Info("usernet: up", "guest", Guest4, "gateway", Gateway4, "forwards", n.forwards, "outbound", cfg.Outbound)
	return n, nil
}

// bind opens the host socket of every forward.
func (n *Network) bind() error {
	for _, f := range n.cfg.Forwards {
		var err error
		switch f.Proto {
		case TCP:
			var t *tcpForward
			if t, err = listenTCP(n, f); err == nil {
				n.tcp = append(n.tcp, t)
				f.HostAddr = netip.AddrPortFrom(f.HostAddr.Addr(), t.addr().Port())
			}
		case UDP:
			var u *udpForward
			if u, err = listenUDP(n, f); err == nil {
				n.udp = append(n.udp, u)
				f.HostAddr = netip.AddrPortFrom(f.HostAddr.Addr(), u.addr().Port())
			}
		}
		if err != nil {
			return fmt.Errorf("-p %s: %w", f, err)
		}
		n.forwards = append(n.forwards, f)
	}
	return nil
}

// Forwards returns the forwards as bound, in Config order: a host port 0
// is replaced by the port the host picked, as in "127.0.0.1:41235:80".
func (n *Network) Forwards() []Forward {
	return append([]Forward(nil), n.forwards...)
}

// Stats counts the link's frames.
type Stats struct {
	FramesIn, FramesOut uint64
	// DroppedIn counts the guest's frames that were too short or too long
	// for the MTU, or that admit refused. (Frames netstack rejects are
	// counted by netstack.)
	DroppedIn uint64
	// DroppedOut counts frames for the guest that were dropped: the queue
	// was full because the guest was not reading.
	DroppedOut uint64
	// ACKsHeld counts the gateway's pure ACKs held back for a later
	// segment to carry (package ackdelay); ACKsCarried, those a later
	// segment did carry, which the guest never had to receive.
	ACKsHeld, ACKsCarried uint64
}

// Stats returns the link's counters so far.
func (n *Network) Stats() Stats {
	held, carried := n.link.acks.Stats()
	return Stats{
		FramesIn:    n.link.framesIn.Load(),
		FramesOut:   n.link.framesOut.Load(),
		DroppedIn:   n.link.droppedIn.Load(),
		DroppedOut:  n.link.droppedOut.Load(),
		ACKsHeld:    held,
		ACKsCarried: carried,
	}
}

// Close closes the host sockets and every relayed connection, stops the
// link, closing its descriptor, and waits for all of the network's
// goroutines to end.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		closers := n.closers
		n.closers = nil
		n.mu.Unlock()

		n.cancel()
		for c := range closers {
			c.Close()
		}
		if n.link != nil {
			n.link.stop() // no more frames in: nothing new starts
		}
		n.wg.Wait()
		if n.stack != nil {
			n.stack.Destroy()
		}
		if n.link != nil {
			st := n.Stats()
			n.log.Info("usernet: closed", "frames_in", st.FramesIn, "frames_out", st.FramesOut,
				"dropped_in", st.DroppedIn, "dropped_out", st.DroppedOut,
				"acks_held", st.ACKsHeld, "acks_carried", st.ACKsCarried)
		}
	})
	return nil
}

// spawn runs f on a goroutine that Close waits for, unless the network is
// closed.
func (n *Network) spawn(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

// hold registers c to be closed by Close; when the network is already
// closed it closes c and reports false.
func (n *Network) hold(c io.Closer) bool {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		c.Close()
		return false
	}
	n.closers[c] = struct{}{}
	n.mu.Unlock()
	return true
}

// drop closes c and forgets it.
func (n *Network) drop(c io.Closer) {
	n.mu.Lock()
	delete(n.closers, c)
	n.mu.Unlock()
	c.Close()
}

// acquireConn counts a relayed TCP connection, false beyond maxTCPConns.
func (n *Network) acquireConn() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || n.conns >= maxTCPConns {
		return false
	}
	n.conns++
	return true
}

func (n *Network) releaseConn() {
	n.mu.Lock()
	n.conns--
	n.mu.Unlock()
}

// errClosed is returned by operations on a closed network.
var errClosed = errors.New("usernet: network closed")
