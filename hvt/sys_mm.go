package hvt

import (
	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/guestmem"
)

const protMask = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC

func sysMmap(t *thread, a *args) (uint64, outcome) {
	addr, length, prot, flags := a[0], a[1], a[2], a[3]
	if prot&^protMask != 0 {
		return errno(unix.EINVAL), resume
	}
	if flags&unix.MAP_ANONYMOUS == 0 {
		return ret(mapDevice(t, a))
	}
	if flags&(unix.MAP_SHARED|unix.MAP_PRIVATE) == 0 || flags&(unix.MAP_GROWSDOWN|unix.MAP_HUGETLB) != 0 {
		return errno(unix.EINVAL), resume
	}
	var mf guestmem.MmapFlags
	if flags&unix.MAP_FIXED != 0 {
		mf |= guestmem.Fixed
	}
	if flags&unix.MAP_FIXED_NOREPLACE != 0 {
		mf |= guestmem.NoReplace
	}
	return ret(t.vm.as.Mmap(addr, length, guestmem.Prot(prot), mf))
}

func sysMunmap(t *thread, a *args) (uint64, outcome) {
	return ret(0, t.vm.as.Munmap(a[0], a[1]))
}

func sysMprotect(t *thread, a *args) (uint64, outcome) {
	if a[2]&^protMask != 0 {
		return errno(unix.EINVAL), resume
	}
	return ret(0, t.vm.as.Mprotect(a[0], a[1], guestmem.Prot(a[2])))
}

func sysMadvise(t *thread, a *args) (uint64, outcome) {
	addr, length, advice := a[0], a[1], a[2]
	if addr%guestmem.PageSize != 0 {
		return errno(unix.EINVAL), resume
	}
	if length == 0 {
		return 0, resume
	}
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE:
		return ret(0, t.vm.as.DontNeed(addr, length))
	}
	return 0, resume
}

// mapDevice serves mmap of a descriptor: a network device's shared rings
// (MAP_SHARED, read-write, offset 0, no address asked for); ENODEV for
// anything else, as for a file that cannot be mapped.
func mapDevice(t *thread, a *args) (uint64, error) {
	addr, length, prot, flags, fdn, off := a[0], a[1], a[2], a[3], a[4], a[5]
	d, err := t.vm.files.get(fdn)
	if err != nil {
		return 0, err
	}
	n, ok := d.f.(*netDev)
	if !ok {
		return 0, unix.ENODEV
	}
	if flags&(unix.MAP_SHARED|unix.MAP_PRIVATE) != unix.MAP_SHARED || flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0 ||
		addr != 0 || off != 0 || prot != unix.PROT_READ|unix.PROT_WRITE {
		return 0, unix.EINVAL
	}
	return n.mapRing(t, length)
}
