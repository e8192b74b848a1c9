package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/morgana-os/morgana/dns/answer"
	"github.com/morgana-os/morgana/dns/wire"
)

// ServeTCP accepts connections on ln and answers their queries until ln is
// closed; it then returns nil, or the error that ended it.
func (s *Server) ServeTCP(ln net.Listener) error {
	limit := s.MaxTCPConns
	if limit <= 0 {
		limit = DefaultMaxTCPConns
	}
	slots := make(chan struct{}, limit)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return closedOK(err)
		}
		select {
		case slots <- struct{}{}:
		default:
			c.Close() // too many: the client retries elsewhere or later
			continue
		}
		s.track(c, true)
		go func() {
			defer func() { <-slots }()
			defer s.track(c, false)
			defer c.Close()
			if err := s.serveConn(c); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					s.log().Debug("dns: tcp", "client", c.RemoteAddr().String(), "err", err)
				}
			}
		}()
	}
}

// track adds c to, or removes it from, the connections Close closes.
func (s *Server) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// serveConn answers the queries of one connection, in order, each a
// message with a two-byte length prefix (RFC 1035 §4.2.2).
func (s *Server) serveConn(c net.Conn) error {
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 16<<10)
	msg := make([]byte, maxQuery)
	var q wire.Query
	for {
		if r.Buffered() == 0 {
			// No query waiting: send what was answered, then wait.
			if err := w.Flush(); err != nil {
				return err
			}
		}
		c.SetDeadline(time.Now().Add(s.idle()))
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		if n > maxQuery {
			return errTooLong // not a query: the connection goes
		}
		if _, err := io.ReadFull(r, msg[:n]); err != nil {
			return err
		}
		if err := s.answerTCP(c, w, msg[:n], &q); err != nil {
			return err
		}
	}
}

// errTooLong ends a connection whose client sent a message longer than
// any query.
var errTooLong = errors.New("message longer than a query")

// outBuffers hold TCP answers (up to 64 KiB) while they are built, shared
// by the connections rather than kept by each.
var outBuffers = sync.Pool{New: func() any { b := make([]byte, 2+answer.BufferSize); return &b }}

// answerTCP answers one query of c, writing the answer, or the zone
// transfer, to w.
func (s *Server) answerTCP(c net.Conn, w *bufio.Writer, msg []byte, q *wire.Query) error {
	bp := outBuffers.Get().(*[]byte)
	defer outBuffers.Put(bp)
	out := *bp
	resp, xfr := s.Table.Respond(out[2:], msg, q, answer.TCP)
	if xfr != nil {
		if s.AllowTransfer(addrOf(c.RemoteAddr())) {
			return s.transfer(c, w, xfr, out, msg, q)
		}
		s.log().Debug("dns: zone transfer refused", "zone", xfr.Zone, "client", c.RemoteAddr().String())
	}
	if resp == nil {
		return nil
	}
	binary.BigEndian.PutUint16(out, uint16(len(resp)))
	_, err := w.Write(out[:2+len(resp)])
	return err
}

// transfer streams a zone transfer on c.
func (s *Server) transfer(c net.Conn, w *bufio.Writer, xfr *answer.Transfer, out, msg []byte, q *wire.Query) error {
	start := time.Now()
	var msgs, bytes int
	err := xfr.Send(out[2:], msg, q, func(m []byte) error {
		c.SetDeadline(time.Now().Add(s.idle()))
		binary.BigEndian.PutUint16(out, uint16(len(m)))
		msgs++
		bytes += len(m)
		_, err := w.Write(out[:2+len(m)])
		return err
	})
	s.log().Info("dns: zone transfer", "zone", xfr.Zone, "client", c.RemoteAddr().String(),
		"messages", msgs, "bytes", bytes, "elapsed", time.Since(start), "err", err)
	return err
}

func (s *Server) idle() time.Duration {
	if s.TCPIdle > 0 {
		return s.TCPIdle
	}
	return DefaultTCPIdle
}
