package netdev

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// The tests attach one end of a SOCK_SEQPACKET pair to this process as
// device "service", as the monitor does for -p in spt and unix mode, and
// play the network on the other end.
var peer int

func TestMain(m *testing.M) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	peer = fds[0]
	os.Setenv(abi.DevicesEnv, abi.FormatDevices([]abi.Device{{
		Kind: abi.NetDevice, Name: "service", FD: fds[1], MAC: "02:00:00:00:00:07", MTU: 1500,
		IPv4: "10.0.2.15/24", IPv4Gateway: "10.0.2.2", DNS: "10.0.2.3",
	}}))
	os.Exit(m.Run())
}

func TestList(t *testing.T) {
	l := List()
	if len(l) != 1 {
		t.Fatalf("List() = %v", l)
	}
	i := l[0]
	if i.Name != "service" || i.MAC.String() != "02:00:00:00:00:07" || i.MTU != 1500 ||
		i.IPv4.String() != "10.0.2.15/24" || i.IPv4Gateway.String() != "10.0.2.2" || len(i.DNS) != 1 {
		t.Errorf("List()[0] = %+v", i)
	}
	if _, err := Open("nosuch"); err == nil {
		t.Error("Open of a device that is not attached succeeded")
	}
}

var framesRan bool

func TestFrames(t *testing.T) {
	if framesRan {
		t.Skip("the device was closed by an earlier run (-count)")
	}
	framesRan = true
	d, err := Open("service")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// In: three frames arrive; one Read with room for eight takes all three.
	want := [][]byte{frame(60, 1), frame(1514, 2), frame(100, 3)}
	for _, f := range want {
		if _, err := unix.Write(peer, f); err != nil {
			t.Fatal(err)
		}
	}
	bufs := make([][]byte, 8)
	for i := range bufs {
		bufs[i] = make([]byte, d.MTU()+EthernetHeaderLen)
	}
	sizes := make([]int, len(bufs))
	var got [][]byte
	for len(got) < len(want) {
		n, err := d.Read(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			got = append(got, bytes.Clone(bufs[i][:sizes[i]]))
		}
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
	// Out: a batch arrives as separate frames, in order.
	if n, err := d.Write(want); n != len(want) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 2048)
	for i, w := range want {
		n, err := unix.Read(peer, buf)
		if err != nil || !bytes.Equal(buf[:n], w) {
			t.Errorf("frame %d out: %d bytes, %v", i, n, err)
		}
	}
	// A reader blocked in the poller wakes when a frame comes.
	done := make(chan int)
	go func() {
		n, _ := d.Read(bufs, sizes)
		done <- n
	}()
	time.Sleep(20 * time.Millisecond)
	unix.Write(peer, frame(64, 9))
	select {
	case n := <-done:
		if n != 1 || sizes[0] != 64 {
			t.Errorf("woken read: %d frames, first %d bytes", n, sizes[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a blocked Read did not wake for a frame")
	}
	// Close unblocks a reader with ErrClosed.
	go func() {
		_, err := d.Read(bufs, sizes)
		done <- map[bool]int{true: 1}[errors.Is(err, ErrClosed)]
	}()
	time.Sleep(20 * time.Millisecond)
	d.Close()
	select {
	case ok := <-done:
		if ok != 1 {
			t.Error("Read after Close did not return ErrClosed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

func frame(n int, tag byte) []byte {
	f := bytes.Repeat([]byte{tag}, n)
	copy(f[12:], []byte{0x08, 0x00})
	return f
}
