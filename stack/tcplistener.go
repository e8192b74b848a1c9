package stack

import (
	"net"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// tcpListener is a listening TCP endpoint. It accepts by itself rather
// than through gonet's TCPListener, so that accepted connections keep
// their endpoint (for keep-alive and the other socket options) and Accept
// returns net.ErrClosed after Close, as net's listeners do.
type tcpListener struct {
	s     *Stack
	sk    *socket
	addr  net.Addr
	close sync.Once
	done  chan struct{}
}

func newTCPListener(s *Stack, sk *socket) *tcpListener {
	return &tcpListener{s: s, sk: sk, addr: localAddr("tcp", sk.ep, sk.proto), done: make(chan struct{})}
}

func (l *tcpListener) Addr() net.Addr { return l.addr }

// Close stops listening; blocked Accepts return net.ErrClosed.
func (l *tcpListener) Close() error {
	first := false
	l.close.Do(func() {
		first = true
		close(l.done)
		l.sk.ep.Close()
	})
	if !first {
		return &net.OpError{Op: "close", Net: l.sk.network, Addr: l.addr, Err: net.ErrClosed}
	}
	return nil
}

// Accept waits for the next connection.
func (l *tcpListener) Accept() (net.Conn, error) {
	entry, ready := waiter.NewChannelEntry(waiter.ReadableEvents)
	l.sk.wq.EventRegister(&entry)
	defer l.sk.wq.EventUnregister(&entry)
	for {
		if l.isClosed() {
			return nil, l.opError(net.ErrClosed)
		}
		ep, wq, err := l.sk.ep.Accept(nil)
		switch err.(type) {
		case nil:
			return newTCPConn(&socket{ep: ep, wq: wq, proto: l.sk.proto, network: l.sk.network}), nil
		case *tcpip.ErrWouldBlock:
		default:
			if l.isClosed() {
				return nil, l.opError(net.ErrClosed)
			}
			return nil, l.opError(sysErr("accept", err))
		}
		select {
		case <-ready:
		case <-l.done:
		case <-l.s.ctx.Done():
		}
	}
}

// isClosed reports whether the listener or its stack was closed.
func (l *tcpListener) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return l.s.closed()
	}
}

func (l *tcpListener) opError(err error) error {
	return &net.OpError{Op: "accept", Net: l.sk.network, Addr: l.addr, Err: err}
}
