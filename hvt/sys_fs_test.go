package hvt

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

func TestFstat(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	buf := scratch(t, vm, 4096)
	if got := call(th, sysPipe2, buf, 0); got != 0 {
		t.Fatalf("pipe2 = %d", got)
	}
	fds := getU64(t, vm, buf)
	efd := uint64(call(th, sysEventfd2, 0, 0))
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	blk, err := vm.files.install(&fd{f: &blockDev{info: abi.Device{Size: 1 << 20, SectorSize: 512}}})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		setup func()
		fd    uint64
		mode  uint32
		size  int64
	}{
		{"stdin, none", nil, 0, unix.S_IFCHR | 0o600, 0},
		{"stdin, the host's /dev/null", func() { vm.cfg.Stdin = devNull }, 0, unix.S_IFCHR | 0o666, 0},
		{"stdout, not a host file", nil, 1, unix.S_IFIFO | 0o200, 0},
		{"stdout, the host's /dev/null", func() { vm.cfg.Stdout = devNull }, 1, unix.S_IFCHR | 0o666, 0},
		{"pipe, read end", nil, fds & 0xffffffff, unix.S_IFIFO | 0o600, 0},
		{"pipe, write end", nil, fds >> 32, unix.S_IFIFO | 0o600, 0},
		{"eventfd", nil, efd, 0o600, 0},
		{"block device", nil, uint64(blk), unix.S_IFBLK | 0o600, 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			if got := call(th, sysFstat, tc.fd, buf+256); got != 0 {
				t.Fatalf("fstat = %d", got)
			}
			st := make([]byte, statSize)
			vm.as.CopyIn(st, buf+256)
			le := binary.LittleEndian
			if mode := le.Uint32(st[24:]); mode != tc.mode {
				t.Errorf("st_mode %#o, want %#o", mode, tc.mode)
			}
			if size := int64(le.Uint64(st[48:])); size != tc.size {
				t.Errorf("st_size %d, want %d", size, tc.size)
			}
			if !bytes.Equal(st[72:], make([]byte, statSize-72)) || le.Uint64(st[8:]) != 0 {
				t.Errorf("times or inode set: % x", st)
			}
		})
	}
	if got := call(th, sysFstat, 99, buf); got != -int64(unix.EBADF) {
		t.Errorf("fstat of a closed descriptor = %d, want EBADF", got)
	}
	if got := call(th, sysFstat, 0, 0x1000); got != -int64(unix.EFAULT) {
		t.Errorf("fstat into unmapped memory = %d, want EFAULT", got)
	}
}

func TestGetcwd(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	buf := scratch(t, vm, 4096)
	if got := call(th, sysGetcwd, buf, 4096); got != 2 {
		t.Fatalf("getcwd = %d, want 2", got)
	}
	b := make([]byte, 2)
	vm.as.CopyIn(b, buf)
	if string(b) != "/\x00" {
		t.Errorf("getcwd wrote %q, want %q", b, "/\x00")
	}
	if got := call(th, sysGetcwd, buf, 1); got != -int64(unix.ERANGE) {
		t.Errorf("getcwd with 1 byte = %d, want ERANGE", got)
	}
	if got := call(th, sysGetcwd, 0x1000, 16); got != -int64(unix.EFAULT) {
		t.Errorf("getcwd into unmapped memory = %d, want EFAULT", got)
	}
}
