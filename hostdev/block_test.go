package hostdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

func TestOpenBlock(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.WriteFile(disk, make([]byte, 4*SectorSize), 0o644); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "odd")
	if err := os.WriteFile(odd, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path     string
		readOnly bool
		want     string // in the error; "" for success
	}{
		{disk, false, ""},
		{disk, true, ""},
		{odd, false, "not a positive multiple"},
		{empty, true, "not a positive multiple"},
		{dir, true, "directory"},
		{filepath.Join(dir, "missing"), false, "no such file"},
		// Neither waits for a writer.
		{fifo, true, "not a regular file or a block device"},
		{fifo, false, "not a regular file or a block device"},
		{os.DevNull, true, "not a regular file or a block device"},
	} {
		d, err := openBlock(Spec{Kind: abi.BlockDevice, Name: "storage", Path: c.path, ReadOnly: c.readOnly})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("openBlock(%s, ro=%v): %v", c.path, c.readOnly, err)
		case c.want == "" && d.Info.Size != 4*SectorSize:
			t.Errorf("openBlock(%s, ro=%v): size %d, want %d", c.path, c.readOnly, d.Info.Size, 4*SectorSize)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("openBlock(%s, ro=%v) = %v, want an error with %q", c.path, c.readOnly, err, c.want)
		}
		if d != nil {
			if fl, err := unix.FcntlInt(d.File.Fd(), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
				t.Errorf("openBlock(%s): flags %#x, %v: want a blocking descriptor", c.path, fl, err)
			}
			d.Close()
		}
	}
}
