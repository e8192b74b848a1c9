// Package server runs the DNS server's loops: UDP over a net.PacketConn and
// TCP over a net.Listener, answering from a memoised table (package
// answer). It takes its sockets from its caller, so that the same code
// serves on the host's sockets (unix mode) and on the image's own TCP/IP
// stack (package stack).
//
// Over UDP, one goroutine per core reads, answers and writes; on Linux host
// sockets each has its own descriptor of the socket and moves datagrams in
// batches with recvmmsg and sendmmsg, without allocating (a test pins it).
// Over TCP, a connection may carry many queries back to back (RFC 7766
// §6.2.1.1, pipelining): they are answered in order, and the answers are
// flushed together when no query is waiting. Zone transfers go only to the
// addresses of the access list.
package server

import (
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/morgana-os/morgana/dns/answer"
)

// Defaults of the Server's limits.
const (
	DefaultMaxTCPConns = 1024
	DefaultTCPIdle     = 10 * time.Second // RFC 7766 §6.2.3 suggests seconds
)

// Server answers queries from Table. Its fields are set before serving
// and not changed afterwards.
type Server struct {
	Table *answer.Table
	// AXFR lists the networks that may transfer zones; none by default.
	AXFR []netip.Prefix
	// Log receives errors and zone transfers; nil discards them.
	Log *slog.Logger
	// Workers is the number of UDP goroutines; 0 means GOMAXPROCS.
	Workers int
	// MaxTCPConns bounds the open TCP connections; TCPIdle is how long
	// one may wait for its next query.
	MaxTCPConns int
	TCPIdle     time.Duration

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// AllowTransfer reports whether a client at addr may transfer zones.
func (s *Server) AllowTransfer(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range s.AXFR {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Close closes the TCP connections being served (the caller closes the
// listener and the packet connection, which ends the Serve loops).
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// addrOf returns the IP address of a net.Addr.
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr()
	case *net.TCPAddr:
		return a.AddrPort().Addr()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr()
	}
	return netip.Addr{}
}
