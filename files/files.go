// Package files gives a program the files named on its command line (a
// certificate, a key, a zone file) in every mode morgana runs it in, and
// natively.
//
// An image has no file system in a VM (hvt) or in spt mode. There, the
// files come in a tar archive on the block device named "files":
//
//	tar cf certs.tar site.crt site.key
//	morgana run --block files=certs.tar:ro ./server --cert site.crt --key site.key
//
// and the program declares the device as optional, so that it also runs
// without it:
//
//	//morgana:block files optional
//
// When the device is attached, in any mode, names are looked up in the
// archive: "site.crt", "./site.crt" and "/site.crt" are the archive's
// site.crt, as tar stores /etc/x as etc/x. Without it, in unix mode or run
// as a plain program, they are the host's files, through package os. In
// hvt or spt without the device, opening a file fails with an error that
// says to attach it.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/block"
	"github.com/morgana-os/morgana/device"
	"github.com/morgana-os/morgana/tarfs"
)

// Device is the name of the block device holding the archive.
const Device = "files"

// Open opens the named file: in the archive on the files device if it is
// attached, on the host otherwise.
func Open(name string) (fs.File, error) {
	return theSource().open(name)
}

// ReadFile reads the whole named file, as Open finds it.
func ReadFile(name string) ([]byte, error) {
	return theSource().readFile(name)
}

// source is where names are looked up.
type source struct {
	archive   *tarfs.FS // the files device's, or nil
	err       error     // why the files device could not be read
	sandboxed bool      // no host file system (hvt, spt)
}

var theSource = sync.OnceValue(func() *source {
	s := &source{}
	s.archive, s.err = openDevice()
	if s.archive == nil && s.err == nil {
		s.sandboxed = device.Sandboxed()
	}
	return s
})

// openDevice indexes the archive on the files device, if it is attached.
func openDevice() (*tarfs.FS, error) {
	devs, err := device.List(abi.BlockDevice)
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		if d.Name != Device {
			continue
		}
		dev, err := block.Open(Device)
		if err != nil {
			return nil, err
		}
		// The device stays open for the program's life: its files are
		// read from it when they are opened.
		a, err := tarfs.Open(dev, dev.Size())
		if err != nil {
			dev.Close()
			return nil, fmt.Errorf("block device %s: %w (attach a tar archive: tar cf ARCHIVE.tar FILE...)", Device, err)
		}
		return a, nil
	}
	return nil, nil
}

// resolve says where name is: its name in the archive, or on the host.
func (s *source) resolve(name string) (p string, host bool, err error) {
	switch {
	case s.err != nil:
		return "", false, fmt.Errorf("files: %s: %w", name, s.err)
	case s.archive != nil:
		p, err := archiveName(name)
		return p, false, err
	case s.sandboxed:
		return "", false, s.noFiles(name)
	}
	return "", true, nil
}

func (s *source) open(name string) (fs.File, error) {
	p, host, err := s.resolve(name)
	switch {
	case err != nil:
		return nil, err
	case host:
		f, err := os.Open(name)
		if err != nil {
			return nil, err // it names the file
		}
		return f, nil
	}
	f, err := s.archive.Open(p)
	if err != nil {
		return nil, s.archiveError(name, err)
	}
	return f, nil
}

func (s *source) readFile(name string) ([]byte, error) {
	p, host, err := s.resolve(name)
	switch {
	case err != nil:
		return nil, err
	case host:
		return os.ReadFile(name)
	}
	b, err := s.archive.ReadFile(p)
	if err != nil {
		return nil, s.archiveError(name, err)
	}
	return b, nil
}

// archiveName is the name in the archive of a name of the command line.
func archiveName(name string) (string, error) {
	if strings.Contains("/"+name+"/", "/../") || name == "" {
		return "", &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("files: not a name in the archive on block device %s: %w", Device, fs.ErrInvalid)}
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), nil
}

// archiveError says what is wrong with a name of the archive.
func (s *source) archiveError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		n := fmt.Sprintf("%d files", s.archive.Files())
		if s.archive.Files() == 1 {
			n = "1 file"
		}
		return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not in the tar archive on block device %s (%s): %w", Device, n, fs.ErrNotExist)}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: fmt.Errorf("in the tar archive on block device %s: %w", Device, pe.Err)}
	}
	return fmt.Errorf("files: %s: %w", name, err)
}

// noFiles is the error of a name in a VM without the files device.
func (s *source) noFiles(name string) error {
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: the image has no file system here (hvt, spt); "+
		"put the file in a tar archive and attach it: morgana run --block %s=ARCHIVE.tar:ro", fs.ErrNotExist, Device)}
}
