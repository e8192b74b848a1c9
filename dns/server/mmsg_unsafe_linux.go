//go:build linux

package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/dns/answer"
	"github.com/morgana-os/morgana/dns/wire"
)

// batch is the most datagrams one recvmmsg or sendmmsg moves.
const batch = 32

// serveMmsg serves a host UDP socket with one worker per core, each on its
// own descriptor of the socket (so that their reads do not queue on one
// descriptor's lock), moving datagrams in batches: one recvmmsg takes all
// that are waiting, up to batch, and one sendmmsg sends their answers. The
// calls do not block (the socket is non-blocking, as the runtime made it):
// they are raw system calls, which spare the scheduler the bookkeeping of
// a blocking call, and a worker that finds nothing waits in the runtime's
// poller like any goroutine. It reports false, having done nothing, if the
// socket cannot be used so.
func (s *Server) serveMmsg(uc *net.UDPConn) (error, bool) {
	conns := []*net.UDPConn{uc}
	for len(conns) < s.workers() {
		c, err := dupUDP(uc)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	workers := make([]*mmsgWorker, len(conns))
	for i, c := range conns {
		w, err := newMmsgWorker(s, c)
		if err != nil {
			for _, c := range conns[1:] {
				c.Close()
			}
			return nil, false
		}
		workers[i] = w
	}
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	var once sync.Once
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.run()
			// The caller closes uc, which ends its worker; the duplicates
			// are ours to close, which ends theirs.
			once.Do(func() {
				for _, c := range conns[1:] {
					c.Close()
				}
			})
		}()
	}
	wg.Wait()
	return closedOK(errors.Join(errs...)), true
}

// dupUDP returns a second *net.UDPConn on the socket of uc.
func dupUDP(uc *net.UDPConn) (*net.UDPConn, error) {
	f, err := uc.File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	c, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, errors.New("not a UDP socket")
	}
	return c, nil
}

// mmsgWorker is one worker's loop and its buffers, allocated once.
type mmsgWorker struct {
	s  *Server
	rc syscall.RawConn

	in    [batch]unix.Mmsghdr
	inIov [batch]unix.Iovec
	names [batch]unix.RawSockaddrAny
	bufs  [batch][maxQuery]byte

	out    [batch]unix.Mmsghdr
	outIov [batch]unix.Iovec
	resps  [batch][answer.MaxUDPSize]byte

	q wire.Query

	// State shared with recv and send, the functions given to rc (bound
	// once: a method value made per call would allocate).
	n, sent, toSend int
	errno           syscall.Errno
	recv, send      func(fd uintptr) bool
}

func newMmsgWorker(s *Server, uc *net.UDPConn) (*mmsgWorker, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := &mmsgWorker{s: s, rc: rc}
	for i := range batch {
		w.inIov[i].Base = &w.bufs[i][0]
		w.inIov[i].SetLen(maxQuery)
		w.in[i].Hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		w.in[i].Hdr.Iov = &w.inIov[i]
		w.in[i].Hdr.SetIovlen(1)
		w.outIov[i].Base = &w.resps[i][0]
		w.out[i].Hdr.Iov = &w.outIov[i]
		w.out[i].Hdr.SetIovlen(1)
	}
	w.recv = w.doRecv
	w.send = w.doSend
	return w, nil
}

// doRecv receives a batch; false means nothing is waiting.
func (w *mmsgWorker) doRecv(fd uintptr) bool {
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.in[0])), batch, 0, 0, 0)
	if errno == unix.EAGAIN {
		return false
	}
	w.n, w.errno = int(n), errno
	return true
}

// doSend sends what is left of the answers; false means the socket's
// buffer is full. A datagram that cannot go (its client is unreachable) is
// skipped.
func (w *mmsgWorker) doSend(fd uintptr) bool {
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.out[w.sent])),
		uintptr(w.toSend-w.sent), 0, 0, 0)
	switch errno {
	case 0:
		w.sent += int(n)
	case unix.EAGAIN:
		return false
	case unix.EINTR:
	default:
		w.sent++
	}
	return true
}

// run serves until the socket is closed.
func (w *mmsgWorker) run() error {
	for {
		for i := range batch {
			w.in[i].Hdr.Namelen = unix.SizeofSockaddrAny
			w.in[i].Hdr.Flags = 0
		}
		if err := w.rc.Read(w.recv); err != nil {
			return err
		}
		switch w.errno {
		case 0:
		case unix.EINTR, unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH:
			continue // the last: ICMP errors about earlier answers
		default:
			return &net.OpError{Op: "recvmmsg", Net: "udp", Err: w.errno}
		}
		w.toSend = 0
		for i := range w.n {
			w.answer(i)
		}
		for w.sent = 0; w.sent < w.toSend; {
			if err := w.rc.Write(w.send); err != nil {
				return err
			}
		}
	}
}

// answer answers datagram i, queueing the response for sendmmsg.
func (w *mmsgWorker) answer(i int) {
	h := &w.in[i]
	if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
		return // longer than any query: dropped
	}
	k := w.toSend
	msg := w.bufs[i][:h.Len]
	resp, xfr := w.s.Table.Respond(w.resps[k][:], msg, &w.q, answer.UDP)
	if xfr != nil && w.s.AllowTransfer(sockaddrIP(&w.names[i])) {
		resp = xfr.UDP(w.resps[k][:], msg, &w.q)
	}
	if resp == nil {
		return
	}
	o := &w.out[k]
	o.Hdr.Name = h.Hdr.Name
	o.Hdr.Namelen = h.Hdr.Namelen
	w.outIov[k].SetLen(len(resp))
	w.toSend++
}

// sockaddrIP returns the address of an AF_INET or AF_INET6 socket address.
func sockaddrIP(sa *unix.RawSockaddrAny) netip.Addr {
	switch sa.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(in.Addr)
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrFrom16(in.Addr)
	}
	return netip.Addr{}
}
