package hvt

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeVMWithStdin is a fake VM whose fd 0 reads from r.
func fakeVMWithStdin(t *testing.T, r io.Reader) (*VM, *thread) {
	vm := newFakeVM(t)
	vm.files.init(newStdin(r, vm.files.notify, vm.done))
	return vm, vm.fakeThread(1)
}

func TestStdin(t *testing.T) {
	tests := []struct {
		name  string
		input io.Reader
		reads []uint64 // sizes asked for, in order
		want  []string // what each read returns ("" and EOF at the end)
	}{
		{"none", nil, []uint64{10, 10}, []string{"", ""}},
		{"empty", bytes.NewReader(nil), []uint64{10}, []string{""}},
		{"in pieces", bytes.NewReader([]byte("hello, guest")), []uint64{5, 2, 100, 100}, []string{"hello", ", ", "guest", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vm, th := fakeVMWithStdin(t, tc.input)
			buf := scratch(t, vm, 4096)
			for i, n := range tc.reads {
				got := call(th, sysRead, 0, buf, n)
				if got != int64(len(tc.want[i])) {
					t.Fatalf("read %d of %d bytes = %d, want %d", i, n, got, len(tc.want[i]))
				}
				b := make([]byte, got)
				vm.as.CopyIn(b, buf)
				if string(b) != tc.want[i] {
					t.Errorf("read %d = %q, want %q", i, b, tc.want[i])
				}
			}
			if got := call(th, sysWrite, 0, buf, 1); got != -int64(unix.EBADF) {
				t.Errorf("write to fd 0 = %d, want EBADF", got)
			}
		})
	}
}

// A blocking read waits for the host's input; a non-blocking one says
// EAGAIN; epoll reports fd 0 readable once bytes are there.
func TestStdinWaits(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	vm, th := fakeVMWithStdin(t, pr)
	buf := scratch(t, vm, 4096)
	if got := call(th, sysFcntl, 0, unix.F_SETFL, unix.O_NONBLOCK); got != 0 {
		t.Fatalf("fcntl = %d", got)
	}
	if got := call(th, sysRead, 0, buf, 10); got != -int64(unix.EAGAIN) {
		t.Errorf("non-blocking read of no input = %d, want EAGAIN", got)
	}
	ep := uint64(call(th, sysEpollCreate1, 0))
	putU64(t, vm, buf+64, unix.EPOLLIN|unix.EPOLLET)
	putU64(t, vm, buf+72, 0)
	if got := call(th, sysEpollCtl, ep, unix.EPOLL_CTL_ADD, 0, buf+64); got != 0 {
		t.Fatalf("epoll_ctl = %d", got)
	}
	if got := call(th, sysEpollPwait, ep, buf+128, 4, 0); got != 0 {
		t.Errorf("epoll_pwait with no input = %d events, want 0", got)
	}
	call(th, sysFcntl, 0, unix.F_SETFL, 0)

	go func() {
		time.Sleep(20 * time.Millisecond)
		pw.Write([]byte("late"))
	}()
	if got := call(th, sysRead, 0, buf, 10); got != 4 {
		t.Fatalf("blocking read = %d, want 4 bytes", got)
	}
	go pw.Write([]byte("more"))
	if got := call(th, sysEpollPwait, ep, buf+128, 4, 5000); got != 1 {
		t.Fatalf("epoll_pwait with input = %d events, want 1", got)
	}
	if ev := getU64(t, vm, buf+128); uint32(ev)&unix.EPOLLIN == 0 {
		t.Errorf("events %#x, want EPOLLIN", uint32(ev))
	}
}

// The monitor reads no further ahead of the guest than stdinMax, and
// starts only when the guest first reads.
func TestStdinBounded(t *testing.T) {
	src := &countingReader{r: bytes.NewReader(make([]byte, 4*stdinMax))}
	vm, th := fakeVMWithStdin(t, src)
	time.Sleep(20 * time.Millisecond)
	if n := src.read(); n != 0 {
		t.Fatalf("%d bytes read before the guest asked", n)
	}
	buf := scratch(t, vm, 4096)
	if got := call(th, sysRead, 0, buf, 1); got != 1 {
		t.Fatalf("read = %d", got)
	}
	time.Sleep(50 * time.Millisecond)
	if n := src.read(); n > stdinMax+16<<10 {
		t.Errorf("%d bytes read ahead of a guest that took 1, want at most about %d", n, stdinMax)
	}
	total := int64(1)
	for {
		got := call(th, sysRead, 0, buf, 4096)
		if got < 0 {
			t.Fatalf("read = %d", got)
		}
		if got == 0 {
			break
		}
		total += got
	}
	if total != 4*stdinMax {
		t.Errorf("read %d bytes in all, want %d", total, 4*stdinMax)
	}
}

// A read into memory the guest cannot write fails with EFAULT and loses
// nothing.
func TestStdinFault(t *testing.T) {
	vm, th := fakeVMWithStdin(t, bytes.NewReader([]byte("kept")))
	if got := call(th, sysRead, 0, 0x1000, 4); got != -int64(unix.EFAULT) {
		t.Fatalf("read to an unmapped buffer = %d, want EFAULT", got)
	}
	buf := scratch(t, vm, 4096)
	if got := call(th, sysRead, 0, buf, 10); got != 4 {
		t.Errorf("read after EFAULT = %d, want the 4 bytes", got)
	}
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) read() int64 { return c.n.Load() }
