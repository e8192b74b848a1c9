package usernet

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// readLoop hands the guest's frames to netstack until the link closes.
func (l *link) readLoop() {
	// One byte more than the largest frame, so that a longer one, which a
	// SOCK_SEQPACKET read would silently truncate, shows as too long.
	b := newBatch(l.maxFrame + 1)
	for {
		n, err := l.read(b)
		if err != nil {
			switch {
			case errors.Is(err, errLinkClosed):
				l.log.Debug("usernet: guest closed the link")
			case !errors.Is(err, os.ErrClosed) && !l.stopping.Load():
				l.log.Warn("usernet: link read failed", "err", err)
			}
			return
		}
		for i := range n {
			size := int(b.hdrs[i].Len)
			frame := b.bufs[i][:size]
			if size < header.EthernetMinimumSize || size > l.maxFrame || !l.admit(frame) {
				l.droppedIn.Add(1)
				continue
			}
			l.framesIn.Add(1)
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
				Payload: buffer.MakeWithData(frame), // copies
			})
			l.ch.InjectInbound(0, pkt) // the Ethernet layer reads the type
			pkt.DecRef()
		}
	}
}

// errLinkClosed is a read's answer once the guest's end is closed.
var errLinkClosed = errors.New("link closed by peer")

// read reads a burst of frames into b, at least one. A socket gives the
// burst to one recvmmsg; another descriptor (a TAP) one frame a read. An
// empty frame is an empty message unless the peer hung up, which poll
// tells apart (read cannot).
func (l *link) read(b *batch) (int, error) {
	var n int
	var rerr error
	err := l.rc.Read(func(fd uintptr) bool {
		for {
			if l.sock {
				n, rerr = recvmmsg(int(fd), b)
			} else {
				n, rerr = unix.Read(int(fd), b.bufs[0])
				if rerr == nil {
					b.hdrs[0].Len, n = uint32(n), 1
				}
			}
			switch rerr {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			if rerr == nil && b.hdrs[0].Len == 0 && hungUp(int(fd)) {
				rerr = errLinkClosed
			}
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

func hungUp(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
	n, err := unix.Poll(p, 0)
	return err == nil && n == 1 && p[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR) != 0
}

// writeLoop sends netstack's frames to the guest, a queued burst at a
// time, until ctx ends or the link closes.
func (l *link) writeLoop(ctx context.Context) {
	b := newBatch(l.maxFrame)
	for {
		pkt := l.ch.ReadContext(ctx)
		if pkt == nil {
			return
		}
		// Take what else is queued, up to a batch; a pure ACK may wait
		// for a later segment to carry it (package ackdelay).
		l.wmu.Lock()
		n := 0
		for pkt != nil {
			if l.stage(b, n, pkt) && l.acks.Pass(b.bufs[n][:b.iovs[n].Len], 0) {
				n++
			}
			if n == len(b.bufs) {
				break
			}
			pkt = l.ch.Read()
		}
		ok := l.write(b, n)
		l.wmu.Unlock()
		if !ok {
			return
		}
	}
}

// flushACKs sends the pure ACKs that no later segment carried.
func (l *link) flushACKs() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.flushB == nil {
		l.flushB = newBatch(l.maxFrame)
	}
	frames := l.acks.Take(nil)
	for len(frames) > 0 {
		n := min(len(frames), len(l.flushB.bufs))
		for i, f := range frames[:n] {
			l.flushB.setLen(i, copy(l.flushB.bufs[i], f))
		}
		if !l.write(l.flushB, n) {
			return
		}
		frames = frames[n:]
	}
}

// stage copies pkt into frame i of b, and releases it.
func (l *link) stage(b *batch, i int, pkt *stack.PacketBuffer) bool {
	defer pkt.DecRef()
	if pkt.Size() > len(b.bufs[i]) {
		l.droppedOut.Add(1)
		return false
	}
	m := 0
	for _, s := range pkt.AsSlices() {
		m += copy(b.bufs[i][m:], s)
	}
	b.setLen(i, m)
	return true
}

// write sends frames [0, n) of b, waiting while the descriptor's buffer is
// full. A frame the descriptor refuses is dropped. It reports false once
// the link is closed.
func (l *link) write(b *batch, n int) bool {
	sent := 0
	for sent < n {
		var werr error
		err := l.rc.Write(func(fd uintptr) bool {
			for sent < n {
				var m int
				if l.sock {
					m, werr = sendmmsg(int(fd), b.hdrs[sent:n])
				} else {
					_, werr = unix.Write(int(fd), b.bufs[sent][:b.iovs[sent].Len])
					m = 1
				}
				switch werr {
				case nil:
					sent += m
					l.framesOut.Add(uint64(m))
					continue
				case unix.EINTR:
					continue
				case unix.EAGAIN:
					return false
				}
				return true
			}
			return true
		})
		switch {
		case err != nil:
			return false // closed
		case werr == unix.EPIPE || werr == unix.ECONNRESET:
			return false
		case werr != nil:
			// EMSGSIZE, ENOBUFS: this frame is lost, the rest may go.
			l.droppedOut.Add(1)
			sent++
		}
	}
	return true
}
