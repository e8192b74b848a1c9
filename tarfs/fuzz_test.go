package tarfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
)

// FuzzOpen opens anything as an archive, on a device that refuses
// misaligned requests: Open must fail with a *FormatError or give a file
// system whose every file reads in full, without a panic. The seed corpus
// is in testdata/fuzz/FuzzOpen; run with
//
//	go test ./tarfs -fuzz FuzzOpen
func FuzzOpen(f *testing.F) {
	f.Add(sample(f, tar.FormatUSTAR))
	f.Add(sample(f, tar.FormatPAX)[:3000])
	f.Add(archive(f, tar.FormatGNU, regular("a/b", "c"), symlink("l", "a"), hardlink("h", "a/b")))
	f.Fuzz(func(t *testing.T, data []byte) {
		dev := newDevice(data, 512)
		fsys, err := Open(dev, dev.Size())
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Open failed without a *FormatError: %v", err)
			}
			return
		}
		files := 0
		err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			info, err := d.Info()
			if err != nil {
				t.Fatalf("%s: Info: %v", name, err)
			}
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				if _, err := fsys.ReadLink(name); err != nil {
					t.Fatalf("%s: ReadLink: %v", name, err)
				}
				fsys.Stat(name) // may fail: dangling, loops
			case d.Type().IsRegular():
				files++
				b, err := fsys.ReadFile(name)
				if err != nil || int64(len(b)) != info.Size() {
					t.Fatalf("%s: ReadFile: %d bytes, %v; Stat says %d", name, len(b), err, info.Size())
				}
				fl, err := fsys.Open(name)
				if err != nil {
					t.Fatalf("%s: Open: %v", name, err)
				}
				again, err := io.ReadAll(fl)
				fl.Close()
				if err != nil || !bytes.Equal(again, b) {
					t.Fatalf("%s: Read gives %d bytes, %v; ReadFile %d", name, len(again), err, len(b))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files != fsys.Files() {
			t.Fatalf("walked %d files, Files() = %d", files, fsys.Files())
		}
	})
}
