//go:build !linux

package server

import "net"

// serveMmsg is the batched loop of Linux; elsewhere there is none.
func (s *Server) serveMmsg(*net.UDPConn) (error, bool) { return nil, false }
