package files

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/tarfs"
)

// tarOf makes a tar archive of the files, padded to whole sectors.
func tarOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, name := range []string{"site.crt", "etc/ssl/site.key", "zones/example.com.zone"} {
		body, ok := files[name]
		if !ok {
			continue
		}
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var testFiles = map[string]string{
	"site.crt":               "certificate",
	"etc/ssl/site.key":       "key",
	"zones/example.com.zone": "$ORIGIN example.com.\n",
}

func TestArchiveName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"site.crt", "site.crt"},
		{"./site.crt", "site.crt"},
		{"/etc/ssl/site.key", "etc/ssl/site.key"}, // tar stores /etc/x as etc/x
		{"etc//ssl/./site.key", "etc/ssl/site.key"},
		{"zones/", "zones"},
		{"../site.crt", ""},
		{"a/../site.crt", ""},
		{"", ""},
	} {
		got, err := archiveName(tt.in)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("archiveName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSource(t *testing.T) {
	data := tarOf(t, testFiles)
	archive, err := tarfs.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	hostDir := t.TempDir()
	hostFile := filepath.Join(hostDir, "host.pem")
	os.WriteFile(hostFile, []byte("from the host"), 0o644)

	onDevice := &source{archive: archive, sandboxed: true}
	inUnixMode := &source{archive: archive}
	host := &source{}
	vm := &source{sandboxed: true}
	broken := &source{err: errors.New("block device files: tarfs: bad archive at byte 0: not a tar header"), sandboxed: true}
	tests := []struct {
		name string
		src  *source
		file string
		want string // contents, or with err the error
		err  bool
	}{
		{"device", onDevice, "site.crt", "certificate", false},
		{"device, absolute", onDevice, "/etc/ssl/site.key", "key", false},
		{"device, dot", onDevice, "./zones/example.com.zone", "$ORIGIN example.com.\n", false},
		{"device in unix mode", inUnixMode, "site.crt", "certificate", false},
		{"device, not there", onDevice, "nosuch.pem", "open nosuch.pem: not in the tar archive on block device files (3 files): file does not exist", true},
		{"device, out", onDevice, "../site.crt", "not a name in the archive", true},
		{"device, a directory", onDevice, "zones", "zones: in the tar archive on block device files: is a directory", true},
		{"host", host, hostFile, "from the host", false},
		{"host, not there", host, hostFile + ".nope", "no such file or directory", true},
		{"VM without the device", vm, "site.crt", "open site.crt: file does not exist: the image has no file system here (hvt, spt); put the file in a tar archive and attach it: morgana run --block files=ARCHIVE.tar:ro", true},
		{"broken device", broken, "site.crt", "files: site.crt: block device files: tarfs: bad archive", true},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			b, err := tt.src.readFile(tt.file)
			var got string
			f, oerr := tt.src.open(tt.file)
			if oerr == nil {
				if fi, _ := f.Stat(); fi.IsDir() {
					oerr = errors.New("is a directory")
				} else {
					c, _ := io.ReadAll(f)
					got = string(c)
				}
				f.Close()
			}
			switch {
			case tt.err && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ReadFile: %q, %v; want an error with %q", b, err, tt.want)
			case tt.err && oerr == nil:
				t.Errorf("Open succeeded")
			case !tt.err && (err != nil || string(b) != tt.want || oerr != nil || got != tt.want):
				t.Errorf("ReadFile = %q, %v; Open and read = %q, %v; want %q", b, err, got, oerr, tt.want)
			}
			if tt.name == "VM without the device" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the error is not fs.ErrNotExist")
			}
		})
	}
}

// The device as the monitor attaches it: a descriptor in MORGANA_DEVICES,
// read by a child process (the device table is read once per process).
func TestAttached(t *testing.T) {
	if name := os.Getenv("FILES_TEST_READ"); name != "" {
		b, err := ReadFile(name)
		fmt.Printf("%q %v\n", b, err)
		os.Exit(0)
	}
	data := tarOf(t, testFiles)
	data = append(data, make([]byte, 4096-len(data)%4096)...)
	archivePath := filepath.Join(t.TempDir(), "files.tar")
	if err := os.WriteFile(archivePath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		devices, name, want string
	}{
		{fmt.Sprintf("block=files,fd=3,size=%d,sector=512,ro=1", len(data)), "etc/ssl/site.key", `"key" <nil>`},
		{fmt.Sprintf("block=files,fd=3,size=%d,sector=512,ro=1", len(data)), "nosuch", `"" open nosuch: not in the tar archive on block device files (3 files)`},
		{fmt.Sprintf("block=other,fd=3,size=%d,sector=512", len(data)), archivePath, fmt.Sprintf("%q <nil>", data)}, // the host's file
	} {
		f, err := os.Open(archivePath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestAttached$")
		cmd.Env = append(os.Environ(), "FILES_TEST_READ="+tt.name, abi.DevicesEnv+"="+tt.devices)
		cmd.ExtraFiles = []*os.File{f}
		out, err := cmd.CombinedOutput()
		f.Close()
		if err != nil || !strings.HasPrefix(string(out), tt.want) {
			t.Errorf("%s, ReadFile(%q): %v\n%s\nwant %s", tt.devices, tt.name, err, out, tt.want)
		}
	}
}
