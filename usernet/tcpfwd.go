package usernet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// tcpForward is a TCP -p flag: a host listener whose connections become
// the gateway's connections to the guest's port.
type tcpForward struct {
	n   *Network
	fwd Forward
	ln  net.Listener
}

func listenTCP(n *Network, f Forward) (*tcpForward, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(n.ctx, "tcp", f.HostAddr.String())
	if err != nil {
		return nil, err
	}
	n.hold(ln)
	return &tcpForward{n: n, fwd: f, ln: ln}, nil
}

func (t *tcpForward) addr() netip.AddrPort {
	return t.ln.Addr().(*net.TCPAddr).AddrPort()
}

func (t *tcpForward) serve() {
	var backoff time.Duration
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors, most likely: wait as net/http does,
			// rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t.n.log.Warn("usernet: accept failed", "forward", t.fwd.String(), "err", err)
			select {
			case <-time.After(backoff):
				continue
			case <-t.n.ctx.Done():
				return
			}
		}
		backoff = 0
		if !t.n.acquireConn() {
			t.n.log.Warn("usernet: too many connections, refusing one", "forward", t.fwd.String(), "from", c.RemoteAddr())
			c.Close()
			continue
		}
		if !t.n.spawn(func() { defer t.n.releaseConn(); t.handle(c.(*net.TCPConn)) }) {
			t.n.releaseConn()
			c.Close()
			return
		}
	}
}

// handle connects c to the guest's port; if the guest refuses, or does
// not answer within dialTimeout, c is closed.
func (t *tcpForward) handle(c *net.TCPConn) {
	if !t.n.hold(c) {
		return
	}
	defer t.n.drop(c)
	ctx, cancel := context.WithTimeout(t.n.ctx, dialTimeout)
	g, err := gonet.DialContextTCP(ctx, t.n.stack, tcpip.FullAddress{
		NIC:  nicID,
		Addr: tcpipAddr(Guest4),
		Port: t.fwd.GuestPort,
	}, ipv4.ProtocolNumber)
	cancel()
	if err != nil {
		t.n.log.Debug("usernet: guest did not accept", "forward", t.fwd.String(), "from", c.RemoteAddr(), "err", err)
		return
	}
	if !t.n.hold(g) {
		return
	}
	defer t.n.drop(g)
	t.n.log.Debug("usernet: forwarding", "forward", t.fwd.String(), "from", c.RemoteAddr())
	splice(c, g)
}
