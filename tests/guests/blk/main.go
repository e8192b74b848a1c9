// Command blk checks a block device attached as "storage", as Solo5's
// test_blk does: random sectors written and read back, misaligned and
// out-of-range requests refused, a read-only device refusing writes, and
// (with -want durable) data written and flushed before the monitor is
// killed.
//
//	-want rw       round trips and refusals on a writable device
//	-want ro       the device is read-only: reads work, writes fail
//	-want durable  write a pattern from -seed, flush, print "flushed", wait
package main

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/block"
	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

//morgana:block storage

func main() {
	want := flag.String("want", "rw", "rw, ro or durable")
	size := flag.Int64("size", 0, "expected size of the device in bytes")
	seed := flag.Uint64("seed", 1, "seed of the data pattern")
	flag.Parse()

	d, err := block.Open("storage")
	if err != nil {
		check.Failf("open: %v", err)
		check.Done()
	}
	check.That(d.Size() == *size, "size %d (want %d)", d.Size(), *size)
	check.That(d.SectorSize() == 512, "sector size %d", d.SectorSize())
	switch *want {
	case "rw":
		roundTrips(d, *seed)
		refusals(d)
	case "ro":
		readOnly(d)
	case "durable":
		durable(d, *seed)
	}
	check.Done()
}

// roundTrips writes random runs of sectors at random places, then reads
// each back after all are written.
func roundTrips(d *block.Device, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	sectors := d.Size() / 512
	type write struct {
		off  int64
		data []byte
	}
	var writes []write
	for i := 0; i < 64; i++ {
		n := 1 + r.Int64N(min(64, sectors))
		off := r.Int64N(sectors-n+1) * 512
		data := make([]byte, n*512)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		if _, err := d.WriteAt(data, off); err != nil {
			check.Failf("write %d bytes at %d: %v", len(data), off, err)
			return
		}
		// Later writes win where they overlap: forget the old bytes.
		for k := range writes {
			w := &writes[k]
			lo, hi := max(w.off, off), min(w.off+int64(len(w.data)), off+int64(len(data)))
			if lo < hi {
				copy(w.data[lo-w.off:hi-w.off], data[lo-off:hi-off])
			}
		}
		writes = append(writes, write{off, data})
	}
	bad := 0
	for _, w := range writes {
		got := make([]byte, len(w.data))
		if _, err := d.ReadAt(got, w.off); err != nil || !bytes.Equal(got, w.data) {
			bad++
		}
	}
	check.That(bad == 0, "64 random writes read back (%d differ)", bad)
	last := make([]byte, 512)
	_, err := d.ReadAt(last, d.Size()-512)
	check.That(err == nil, "the last sector reads (%v)", err)
	check.That(d.Flush() == nil, "flush")
}

func refusals(d *block.Device) {
	buf := make([]byte, 1024)
	_, err := d.ReadAt(buf, 1)
	check.That(errors.Is(err, block.ErrMisaligned), "read at offset 1 refused: %v", err)
	_, err = d.WriteAt(buf[:100], 0)
	check.That(errors.Is(err, block.ErrMisaligned), "write of 100 bytes refused: %v", err)
	_, err = d.ReadAt(buf, d.Size()-512)
	check.That(errors.Is(err, block.ErrOutOfRange), "read across the end refused: %v", err)
	_, err = d.WriteAt(buf[:512], d.Size())
	check.That(errors.Is(err, block.ErrOutOfRange), "write past the end refused: %v", err)
	if inVM() {
		// The monitor checks too, whatever the library does.
		fd := deviceFD()
		_, err := pwrite(fd, buf[:512], d.Size())
		check.That(err == syscall.EINVAL, "raw pwrite64 past the end: %v (want EINVAL)", err)
		_, err = pwrite(fd, buf[:512], 3)
		check.That(err == syscall.EINVAL, "raw misaligned pwrite64: %v (want EINVAL)", err)
		_, err = pwrite(1, buf[:512], 0)
		check.That(err == syscall.EBADF, "raw pwrite64 on the console: %v (want EBADF)", err)
	}
}

func readOnly(d *block.Device) {
	check.That(d.ReadOnly(), "device says it is read-only")
	buf := make([]byte, 4096)
	_, err := d.ReadAt(buf, 0)
	check.That(err == nil, "read (%v)", err)
	_, err = d.WriteAt(buf, 0)
	check.That(errors.Is(err, block.ErrReadOnly), "write refused by the library: %v", err)
	_, err = pwrite(deviceFD(), buf[:512], 0)
	check.That(err == syscall.EBADF, "raw pwrite64 refused below the library: %v (want EBADF)", err)
}

func durable(d *block.Device, seed uint64) {
	data := Pattern(seed, int(min(d.Size(), 1<<20)))
	if _, err := d.WriteAt(data, 0); err != nil {
		check.Failf("write: %v", err)
		return
	}
	check.That(d.Flush() == nil, "flush")
	os.Stdout.WriteString("flushed\n")
	time.Sleep(time.Hour) // the test kills the monitor now
}

// Pattern is the data -want durable writes; the test recomputes it.
func Pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// deviceFD finds the device's descriptor the way the library does.
func deviceFD() int {
	devs, _ := abi.ParseDevices(os.Getenv(abi.DevicesEnv))
	for _, d := range devs {
		if d.Name == "storage" {
			return d.FD
		}
	}
	return -1
}

func pwrite(fd int, b []byte, off int64) (int, error) {
	n, _, e := syscall.Syscall6(syscall.SYS_PWRITE64, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// inVM reports whether the image runs in hvt, whose uname says so.
func inVM() bool {
	var u syscall.Utsname
	syscall.Uname(&u)
	var b []byte
	for _, c := range u.Nodename {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b) == "morgana"
}
