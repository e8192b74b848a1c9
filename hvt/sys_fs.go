package hvt

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// The calls of a file system the guest does not have, answered for what
// programs ask of them without one.

// statSize is the size of struct stat on linux/amd64.
const statSize = 144

// sysFstat says what kind of file a descriptor is, and nothing else a
// guest could learn about the host: programs ask to tell a terminal from a
// pipe (is the input interactive?) or to size a device.
func sysFstat(t *thread, a *args) (uint64, outcome) {
	d, err := t.vm.files.get(a[0])
	if err != nil {
		return errno(err), resume
	}
	mode, size := t.vm.fileMode(d.f)
	b := make([]byte, statSize)
	le := binary.LittleEndian
	le.PutUint64(b[16:], 1) // st_nlink
	le.PutUint32(b[24:], mode)
	le.PutUint64(b[48:], uint64(size))
	le.PutUint64(b[56:], 4096) // st_blksize
	le.PutUint64(b[64:], uint64((size+511)/512))
	return ret(0, t.vm.as.CopyOut(a[1], b))
}

// fileMode returns st_mode and st_size for a guest descriptor's file.
func (vm *VM) fileMode(f file) (mode uint32, size int64) {
	const rw = 0o600
	switch f := f.(type) {
	case *stdin:
		// No input at all reads as /dev/null does.
		return hostMode(vm.cfg.Stdin, unix.S_IFCHR|0o600), 0
	case console:
		w := any(vm.cfg.Stdout)
		if f.out == 2 {
			w = vm.cfg.Stderr
		}
		return hostMode(w, unix.S_IFIFO|0o200), 0
	case *pipeEnd:
		return unix.S_IFIFO | rw, 0
	case *netDev:
		return unix.S_IFCHR | rw, 0 // as /dev/net/tun is
	case *blockDev:
		m := uint32(unix.S_IFBLK | 0o400)
		if !f.info.ReadOnly {
			m |= 0o200
		}
		return m, f.info.Size
	}
	return rw, 0 // eventfds and epoll instances: anonymous inodes, no type
}

// hostMode is the type and permission bits of the host file behind a
// console stream, or def when it is not a host file (a test's buffer).
func hostMode(s any, def uint32) uint32 {
	f, ok := s.(*os.File)
	if !ok || f == nil {
		return def
	}
	rc, err := f.SyscallConn() // not Fd, which would make the file blocking
	if err != nil {
		return def
	}
	var st unix.Stat_t
	var serr error = unix.EBADF
	if rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }) != nil || serr != nil {
		return def
	}
	return st.Mode & (unix.S_IFMT | 0o777)
}

// sysGetcwd answers the root: the guest has no file system, so no other
// directory, and Go's os.Getwd and filepath.Abs work on that.
func sysGetcwd(t *thread, a *args) (uint64, outcome) {
	const root = "/\x00"
	if a[1] < uint64(len(root)) {
		return errno(unix.ERANGE), resume
	}
	return ret(uint64(len(root)), t.vm.as.CopyOut(a[0], []byte(root)))
}
