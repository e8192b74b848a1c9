package hvt

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFutex(t *testing.T) {
	vm := newFakeVM(t)
	waiter, waker := vm.fakeThread(1), vm.fakeThread(2)
	word := scratch(t, vm, 4096)
	ts := word + 64
	putU64(t, vm, ts, 0)
	putU64(t, vm, ts+8, 20e6) // 20 ms

	if got := call(waiter, sysFutex, word, futexWait|futexPrivate, 1, 0); got != -int64(unix.EAGAIN) {
		t.Errorf("wait on a changed word = %d, want EAGAIN", got)
	}
	start := time.Now()
	if got := call(waiter, sysFutex, word, futexWait|futexPrivate, 0, ts); got != -int64(unix.ETIMEDOUT) {
		t.Errorf("timed wait = %d, want ETIMEDOUT", got)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("timed wait returned after %v, before its 20 ms", d)
	}
	done := make(chan int64)
	go func() { done <- call(waiter, sysFutex, word, futexWait|futexPrivate, 0, 0) }()
	for woken := int64(0); woken == 0; {
		time.Sleep(time.Millisecond)
		woken = call(waker, sysFutex, word, futexWake|futexPrivate, 1)
	}
	if got := <-done; got != 0 {
		t.Errorf("woken wait = %d, want 0", got)
	}
	if got := call(waker, sysFutex, word, 42, 0); got != -int64(unix.ENOSYS) {
		t.Errorf("unknown op = %d, want ENOSYS", got)
	}
	if got := call(waker, sysFutex, 0x1000, futexWait, 0, 0); got != -int64(unix.EFAULT) {
		t.Errorf("wait on unmapped = %d, want EFAULT", got)
	}
}

func TestFutexInterrupted(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	word := scratch(t, vm, 4096)
	done := make(chan int64)
	go func() { done <- call(th, sysFutex, word, futexWait, 0, 0) }()
	time.Sleep(5 * time.Millisecond)
	vm.mu.Lock()
	th.pending |= sigbit(int(unix.SIGURG))
	vm.mu.Unlock()
	th.intr <- struct{}{}
	if got := <-done; got != -int64(unix.EINTR) {
		t.Errorf("interrupted wait = %d, want EINTR", got)
	}
}

func TestEventfdEpoll(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	buf := scratch(t, vm, 4096)
	ep := call(th, sysEpollCreate1, unix.EPOLL_CLOEXEC)
	efd := call(th, sysEventfd2, 0, unix.EFD_NONBLOCK)
	if ep < 3 || efd < 3 || ep == efd {
		t.Fatalf("epoll %d, eventfd %d", ep, efd)
	}
	// struct epoll_event {u32 events; u64 data} packed.
	putU64(t, vm, buf, unix.EPOLLIN|uint64(7)<<32)
	putU64(t, vm, buf+8, 0)
	if got := call(th, sysEpollCtl, uint64(ep), unix.EPOLL_CTL_ADD, uint64(efd), buf); got != 0 {
		t.Fatalf("epoll_ctl = %d", got)
	}
	if got := call(th, sysEpollPwait, uint64(ep), buf+64, 8, 0); got != 0 {
		t.Errorf("nothing ready: %d events", got)
	}
	if got := call(th, sysRead, uint64(efd), buf+128, 8); got != -int64(unix.EAGAIN) {
		t.Errorf("read of empty eventfd = %d, want EAGAIN", got)
	}
	woke := make(chan int64)
	go func() { woke <- call(th, sysEpollPwait, uint64(ep), buf+64, 8, 1000) }()
	time.Sleep(5 * time.Millisecond)
	putU64(t, vm, buf+256, 3)
	if got := call(th, sysWrite, uint64(efd), buf+256, 8); got != 8 {
		t.Fatalf("write eventfd = %d", got)
	}
	if got := <-woke; got != 1 {
		t.Fatalf("epoll_pwait after write = %d events, want 1", got)
	}
	if ev := getU64(t, vm, buf+64); uint32(ev) != unix.EPOLLIN || ev>>32 != 7 {
		t.Errorf("event %#x, want EPOLLIN with data 7", ev)
	}
	if got := call(th, sysRead, uint64(efd), buf+128, 8); got != 8 || getU64(t, vm, buf+128) != 3 {
		t.Errorf("read eventfd = %d, value %d; want 8, 3", got, getU64(t, vm, buf+128))
	}
	if got := call(th, sysClose, uint64(efd)); got != 0 {
		t.Errorf("close = %d", got)
	}
	if got := call(th, sysClose, uint64(efd)); got != -int64(unix.EBADF) {
		t.Errorf("second close = %d, want EBADF", got)
	}
}

func TestPipe(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	buf := scratch(t, vm, 4096)
	if got := call(th, sysPipe2, buf, 0); got != 0 {
		t.Fatalf("pipe2 = %d", got)
	}
	fds := getU64(t, vm, buf)
	r, w := fds&0xffffffff, fds>>32
	msg := []byte("through the pipe")
	vm.as.CopyOut(buf+512, msg)
	if got := call(th, sysWrite, w, buf+512, uint64(len(msg))); got != int64(len(msg)) {
		t.Fatalf("write = %d", got)
	}
	if got := call(th, sysRead, r, buf+1024, 100); got != int64(len(msg)) {
		t.Fatalf("read = %d", got)
	}
	got := make([]byte, len(msg))
	vm.as.CopyIn(got, buf+1024)
	if string(got) != string(msg) {
		t.Errorf("read %q, want %q", got, msg)
	}
	call(th, sysClose, w)
	if got := call(th, sysRead, r, buf+1024, 100); got != 0 {
		t.Errorf("read after the writer closed = %d, want 0 (EOF)", got)
	}
	if got := call(th, sysWrite, r, buf+512, 1); got != -int64(unix.EBADF) {
		t.Errorf("write to the read end = %d, want EBADF", got)
	}
}

func TestMemoryCalls(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	anon := uint64(unix.MAP_PRIVATE | unix.MAP_ANONYMOUS)
	tests := []struct {
		name string
		h    handler
		args []uint64
		want int64 // < 0: an errno; 1: any success
	}{
		{"mmap rw", sysMmap, []uint64{0, 8192, unix.PROT_READ | unix.PROT_WRITE, anon}, 1},
		{"mmap exec refused", sysMmap, []uint64{0, 8192, unix.PROT_READ | unix.PROT_EXEC, anon}, -int64(unix.EACCES)},
		{"mmap of the console refused", sysMmap, []uint64{0, 8192, unix.PROT_READ, unix.MAP_PRIVATE, 1}, -int64(unix.ENODEV)},
		{"mmap of a closed descriptor", sysMmap, []uint64{0, 8192, unix.PROT_READ, unix.MAP_PRIVATE, 99}, -int64(unix.EBADF)},
		{"mmap bad prot", sysMmap, []uint64{0, 8192, 0x100, anon}, -int64(unix.EINVAL)},
		{"munmap misaligned", sysMunmap, []uint64{0x10001, 4096}, -int64(unix.EINVAL)},
		{"madvise misaligned", sysMadvise, []uint64{0x10001, 4096, unix.MADV_DONTNEED}, -int64(unix.EINVAL)},
		{"open refused", refuse(unix.ENOENT), nil, -int64(unix.ENOENT)},
	}
	for _, tt := range tests {
		got := call(th, tt.h, tt.args...)
		if (tt.want == 1 && got < 0) || (tt.want != 1 && got != tt.want) {
			t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
		}
	}
}
