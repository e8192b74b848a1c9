package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/morgana-os/morgana/dns/answer"
	"github.com/morgana-os/morgana/dns/wire"
)

// maxQuery is the largest UDP query read; longer datagrams are dropped.
// Queries are a question and an OPT record: a few hundred bytes.
const maxQuery = 4096

// ServeUDP answers the queries that arrive on pc until it is closed; it
// then returns nil, or the error that ended it.
func (s *Server) ServeUDP(pc net.PacketConn) error {
	if uc, ok := pc.(*net.UDPConn); ok {
		if err, ok := s.serveMmsg(uc); ok {
			return err
		}
	}
	n := s.workers()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.udpWorker(pc)
		}()
	}
	wg.Wait()
	return closedOK(errors.Join(errs...))
}

// addrPortConn is the allocation-free side of *net.UDPConn.
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// udpWorker is the portable loop: one datagram at a time.
func (s *Server) udpWorker(pc net.PacketConn) error {
	in := make([]byte, maxQuery+1)
	out := make([]byte, answer.MaxUDPSize)
	var q wire.Query
	ap, fast := pc.(addrPortConn)
	for {
		var (
			n    int
			from netip.AddrPort
			addr net.Addr
			err  error
		)
		if fast {
			n, from, err = ap.ReadFromUDPAddrPort(in)
		} else {
			n, addr, err = pc.ReadFrom(in)
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return err
		}
		if n > maxQuery {
			continue
		}
		resp, xfr := s.Table.Respond(out, in[:n], &q, answer.UDP)
		if xfr != nil {
			a := from.Addr()
			if !fast {
				a = addrOf(addr)
			}
			if s.AllowTransfer(a) {
				resp = xfr.UDP(out, in[:n], &q)
			}
		}
		if resp == nil {
			continue
		}
		if fast {
			_, err = ap.WriteToUDPAddrPort(resp, from)
		} else {
			_, err = pc.WriteTo(resp, addr)
		}
		if err != nil && errors.Is(err, net.ErrClosed) {
			return err
		}
	}
}

// closedOK maps the error of a closed connection, the normal end, to nil.
func closedOK(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
