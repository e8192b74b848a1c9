package usernet

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/morgana-os/morgana/ackdelay"
)

// link is the gateway's NIC: Ethernet frames between the monitor's netstack
// and a descriptor on which one read is one frame and one write sends one
// (a SOCK_SEQPACKET end, or a TAP).
//
// Outbound frames wait in a channel endpoint's bounded queue for the writer
// goroutine; when the guest stops reading, the descriptor's buffer fills,
// then the queue, and netstack's further frames are dropped, as a NIC with
// a full ring drops them. Inbound frames are read by one goroutine and
// handed to netstack on it, so a guest that floods the link is slowed to
// the speed netstack takes frames, and never buffered.
type link struct {
	*ethernet.Endpoint // what the NIC sees: Ethernet on top of ch
	ch                 *channel.Endpoint
	f                  *os.File
	rc                 syscall.RawConn
	sock               bool // f is a socket: batches go by recvmmsg and sendmmsg
	maxFrame           int  // MTU plus the Ethernet header
	admit              func(frame []byte) bool
	log                *slog.Logger

	// wmu orders the writes to f: the writer's and those of acks' flush.
	wmu    sync.Mutex
	acks   *ackdelay.Filter // the gateway's pure ACKs, held for a later segment to carry
	flushB *batch           // the flush's frames, made on first use

	framesIn, framesOut   atomic.Uint64
	droppedIn, droppedOut atomic.Uint64
	stopping              atomic.Bool // stop closes f: the reader's error is the end, not a failure

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// queueBytes bounds the memory of the outbound queue: it holds as many
// frames of the link's MTU as fit, within [minQueue, maxQueue].
const (
	queueBytes = 4 << 20
	minQueue   = 64
	maxQueue   = 1024
)

// newLink makes a link with hardware address mac, whose inbound frames
// pass admit. It takes ownership of f: the descriptor is duplicated into
// one that Go's poller waits on, whatever mode f was in, and f is closed.
func newLink(f *os.File, mtu int, mac net.HardwareAddr, admit func([]byte) bool, log *slog.Logger) (*link, error) {
	nf, err := pollable(f)
	if err != nil {
		return nil, err
	}
	rc, err := nf.SyscallConn()
	if err != nil {
		nf.Close()
		return nil, err
	}
	maxFrame := mtu + header.EthernetMinimumSize
	queue := min(max(queueBytes/maxFrame, minQueue), maxQueue)
	ch := channel.New(queue, uint32(maxFrame), tcpip.LinkAddress(mac))
	l := &link{
		Endpoint: ethernet.New(ch),
		ch:       ch,
		f:        nf,
		rc:       rc,
		sock:     isSocket(rc) && !perFrameIO,
		maxFrame: maxFrame,
		admit:    admit,
		log:      log,
	}
	l.acks = ackdelay.New(mtu, l.flushACKs)
	return l, nil
}

// perFrameIO, set by tests, has sockets use the one-frame-per-call path
// that other descriptors (TAPs) take.
var perFrameIO = false

func isSocket(rc syscall.RawConn) bool {
	var st unix.Stat_t
	var err error
	rc.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) })
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// pollable returns a non-blocking duplicate of f's descriptor, registered
// with the poller, and closes f.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", f.Name(), err)
	}
	var fd int
	var derr error
	if err := rc.Control(func(old uintptr) {
		fd, derr = unix.FcntlInt(old, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("link %s: %w", f.Name(), err)
	}
	if derr != nil {
		return nil, fmt.Errorf("link %s: dup: %w", f.Name(), derr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("link %s: set non-blocking: %w", f.Name(), err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// WritePackets implements stack.LinkEndpoint, counting the frames that the
// full queue drops.
func (l *link) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n, err := l.Endpoint.WritePackets(pkts)
	if d := pkts.Len() - n; d > 0 {
		l.droppedOut.Add(uint64(d))
	}
	return n, err
}

// start runs the reader and the writer; the NIC must be attached.
func (l *link) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.readLoop() }()
	go func() { defer l.wg.Done(); l.writeLoop(ctx) }()
}

// stop closes the descriptor, which ends both loops, and waits for them.
func (l *link) stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.stopping.Store(true)
	l.acks.Stop()
	l.f.Close()
	l.wg.Wait()
}
