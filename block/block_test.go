package block

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/morgana-os/morgana/abi"
)

// The tests attach two disk images to this very process, as unix mode
// does: descriptors and the device variable.
const diskSize = 64 << 10

var rwFile, roFile *os.File

func TestMain(m *testing.M) {
	dir, _ := os.MkdirTemp("", "block-test-")
	defer os.RemoveAll(dir)
	rwFile, _ = os.Create(dir + "/rw.img")
	rwFile.Truncate(diskSize)
	roPath := dir + "/ro.img"
	os.WriteFile(roPath, bytes.Repeat([]byte{0xAB}, diskSize), 0o644)
	roFile, _ = os.Open(roPath)
	os.Setenv(abi.DevicesEnv, abi.FormatDevices([]abi.Device{
		{Kind: abi.BlockDevice, Name: "storage", FD: int(rwFile.Fd()), Size: diskSize, SectorSize: 512},
		{Kind: abi.BlockDevice, Name: "config", FD: int(roFile.Fd()), Size: diskSize, SectorSize: 512, ReadOnly: true},
		{Kind: abi.NetDevice, Name: "service", FD: 99, MAC: "02:00:00:00:00:01", MTU: 1500},
	}))
	os.Exit(m.Run())
}

func TestRequests(t *testing.T) {
	d, err := Open("storage")
	if err != nil {
		t.Fatal(err)
	}
	if d.Size() != diskSize || d.SectorSize() != 512 || d.ReadOnly() || d.Name() != "storage" {
		t.Fatalf("geometry: %d bytes, %d-byte sectors, ro %v", d.Size(), d.SectorSize(), d.ReadOnly())
	}
	tests := []struct {
		op   string
		off  int64
		n    int
		want error
	}{
		{"write", 0, 512, nil},
		{"write", 512, 4096, nil},
		{"write", diskSize - 512, 512, nil},
		{"read", 0, 512 + 4096, nil},
		{"read", diskSize - 1024, 1024, nil},
		{"read", 0, 0, nil},
		{"read", 1, 512, ErrMisaligned},
		{"write", 0, 100, ErrMisaligned},
		{"write", 511, 512, ErrMisaligned},
		{"read", diskSize, 512, ErrOutOfRange},
		{"read", diskSize - 512, 1024, ErrOutOfRange},
		{"write", -512, 512, ErrOutOfRange},
		{"write", 1 << 40, 512, ErrOutOfRange},
	}
	for _, tt := range tests {
		buf := bytes.Repeat([]byte{byte(tt.off)}, tt.n)
		var err error
		if tt.op == "read" {
			_, err = d.ReadAt(buf, tt.off)
		} else {
			_, err = d.WriteAt(buf, tt.off)
		}
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%s %d bytes at %d: %v, want %v", tt.op, tt.n, tt.off, err, tt.want)
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Device != "storage" || e.Op != tt.op) {
			t.Errorf("%s at %d: error %#v is not a *Error naming the request", tt.op, tt.off, err)
		}
	}
	got := make([]byte, 512)
	d.ReadAt(got, 512)
	if !bytes.Equal(got, bytes.Repeat([]byte{0}, 512)) { // written with byte(512) == 0
		t.Errorf("read back %x...", got[:8])
	}
	if err := d.Flush(); err != nil {
		t.Errorf("flush: %v", err)
	}
	// The bytes are in the host file: nothing past its end was written.
	if fi, _ := rwFile.Stat(); fi.Size() != diskSize {
		t.Errorf("disk image is %d bytes, want %d", fi.Size(), diskSize)
	}
}

func TestReadOnly(t *testing.T) {
	d, err := Open("config")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	if _, err := d.ReadAt(buf, 0); err != nil || buf[0] != 0xAB {
		t.Errorf("read: %v %x", err, buf[0])
	}
	if _, err := d.WriteAt(buf, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write: %v, want ErrReadOnly", err)
	}
	if err := d.Flush(); err != nil {
		t.Errorf("flush of a read-only device: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for name, want := range map[string]string{
		"nosuch":  `no block device "nosuch" attached (attached: block storage, block config, net service): run with --block nosuch=FILE`,
		"service": `no block device "service" attached`,
	} {
		_, err := Open(name)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("Open(%q) = %v, want an error with %q", name, err, want)
		}
	}
}

func Example() {
	d, err := Open("storage")
	if err != nil {
		fmt.Println(err)
		return
	}
	sector := make([]byte, d.SectorSize())
	copy(sector, "hello, disk")
	d.WriteAt(sector, 0)
	d.Flush()
	d.ReadAt(sector, 0)
	fmt.Printf("%s\n", sector[:11])
	// Output: hello, disk
}
