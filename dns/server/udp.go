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
	if ic, ok := pc.(inlineConn); ok && ic.ServeInline(s.answerInline()) {
		// The image's stack answers each datagram of its fast path as it
		// receives it, with no hand-over to a worker: a memoised answer
		// costs less than the hand-over, and the NIC has one receive
		// queue, read by one goroutine, either way (measured in hvt: on
		// two cores 1.26x NSD inline, 0.84x with two workers). The workers
		// read the rest (IPv6, ...).
		defer ic.ServeInline(nil)
	}
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

// inlineConn is a PacketConn that can have a handler answer datagrams on
// the goroutine that receives them (package stack's UDPConn).
type inlineConn interface {
	ServeInline(h func(req []byte, from netip.AddrPort, reply func(resp []byte) error)) bool
}

// answerInline returns the handler for an inlineConn: it answers as a
// worker does, with buffers from a pool (it may run on several NICs'
// goroutines at once).
func (s *Server) answerInline() func(req []byte, from netip.AddrPort, reply func([]byte) error) {
	type buffers struct {
		out []byte
		q   wire.Query
	}
	pool := sync.Pool{New: func() any { return &buffers{out: make([]byte, answer.MaxUDPSize)} }}
	return func(req []byte, from netip.AddrPort, reply func([]byte) error) {
		if len(req) > maxQuery {
			return
		}
		b := pool.Get().(*buffers)
		if resp := s.answerUDP(b.out, req, &b.q, from.Addr); resp != nil {
			reply(resp)
		}
		pool.Put(b)
	}
}

// answerUDP returns the answer to the query in, or nil for none, built in
// out; from gives the sender, asked for only by a zone transfer, which
// must be allowed to it.
func (s *Server) answerUDP(out, in []byte, q *wire.Query, from func() netip.Addr) []byte {
	resp, xfr := s.Table.Respond(out, in, q, answer.UDP)
	if xfr != nil && s.AllowTransfer(from()) {
		resp = xfr.UDP(out, in, q)
	}
	return resp
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
		resp := s.answerUDP(out, in[:n], &q, func() netip.Addr {
			if fast {
				return from.Addr()
			}
			return addrOf(addr)
		})
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
