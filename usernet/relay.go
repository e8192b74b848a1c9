package usernet

import (
	"io"
	"net"
	"sync"
)

// halfCloser is a TCP connection of either side: the host's *net.TCPConn
// or netstack's *gonet.TCPConn.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// relayBufSize is the size of each direction's copy buffer.
const relayBufSize = 64 << 10

var relayBufs = sync.Pool{New: func() any { b := make([]byte, relayBufSize); return &b }}

// splice copies a to b and b to a until both directions have ended. A
// direction that reaches EOF passes it on as a half-close (CloseWrite), so
// a client that shuts down its sending side still gets the reply; one that
// fails (a reset, a closed socket) closes both connections, which ends the
// other direction too. splice closes neither on return.
func splice(a, b halfCloser) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pipe(b, a)
	}()
	pipe(a, b)
	<-done
}

// pipe copies src to dst.
func pipe(dst, src halfCloser) {
	buf := relayBufs.Get().(*[]byte)
	defer relayBufs.Put(buf)
	// Hide ReadFrom and WriteTo, which would bring their own buffers.
	_, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, *buf)
	if err != nil {
		dst.Close()
		src.Close()
		return
	}
	dst.CloseWrite()
}
