// Package tarfs presents a tar archive stored on a block device as a
// read-only file system (io/fs), for unikernels that have no file system
// of their own: make the archive on the host with `tar cf files.tar ...`,
// attach it (`morgana run --block files=files.tar:ro`), and read it in the
// image as an fs.FS.
//
// Open reads the archive's headers once, into an index kept in memory, and
// files are then read straight from the device. The device is read only in
// whole sectors at sector-aligned offsets, as package block requires: an
// io.ReaderAt with a SectorSize() int method (a *block.Device) is read in
// its sectors, any other in 512-byte ones, the unit of tar itself.
//
// Regular files, directories (named in the archive or implied by the names
// of their files), symbolic links (followed within the archive; see
// ReadLink) and hard links are served; device nodes and FIFOs are left
// out. A name that appears twice is the later entry, as tar extracts it. An
// archive that is not one, is cut short, or names data beyond the end of
// the device fails Open with a *FormatError, and so does one whose index
// would take more memory than a few tens of MiB.
package tarfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of what Open indexes, so that a hostile or broken archive on a
// large device cannot exhaust the image's memory.
const (
	// MaxName is the longest name (or symbolic link target) accepted, in
	// bytes: Linux's PATH_MAX.
	MaxName = 4096
	// MaxIndex bounds the memory of the index: every entry, those of the
	// directories the archive implies included, counts its name, its link
	// target and entryOverhead bytes.
	MaxIndex      = 32 << 20
	entryOverhead = 160
	// maxLinks is how many symbolic links one lookup follows, as Linux's
	// MAXSYMLINKS.
	maxLinks = 40
)

// indexBudget is MaxIndex, lowered by tests.
var indexBudget int64 = MaxIndex

// FS is a tar archive as a read-only file system. It implements fs.FS,
// fs.ReadFileFS, fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS, and is safe
// for concurrent use.
type FS struct {
	dev     *aligned
	root    *entry
	entries map[string]*entry // by full name; "." is the root
	files   int               // regular files
	budget  int64             // what the index may still take, while Open makes it
}

// entry is one file of the index.
type entry struct {
	name     string // full name, clean, relative to the root: "a/b.txt"
	mode     fs.FileMode
	size     int64 // regular files
	modTime  time.Time
	offset   int64    // of the data on the device: regular files
	link     string   // target, as the archive says: symbolic links
	children []*entry // directories, sorted by name
}

// FormatError is the error of Open for an archive it cannot index.
type FormatError struct {
	Offset int64  // of the header at fault, in bytes from the start of the device
	Entry  string // its name, when it has one
	Err    error
}

func (e *FormatError) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("tarfs: bad archive at byte %d, entry %q: %v", e.Offset, e.Entry, e.Err)
	}
	return fmt.Sprintf("tarfs: bad archive at byte %d: %v", e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Open indexes the tar archive held in the first size bytes of dev. An
// archive padded with zeros, as `tar cf` pads it, or followed by anything
// after its end-of-archive blocks, is fine.
func Open(dev io.ReaderAt, size int64) (*FS, error) {
	if size < 0 {
		return nil, fmt.Errorf("tarfs: negative size %d", size)
	}
	a, err := newAligned(dev, size)
	if err != nil {
		return nil, err
	}
	f := &FS{
		dev:     a,
		root:    &entry{name: ".", mode: fs.ModeDir | 0o555},
		entries: map[string]*entry{},
	}
	f.entries["."] = f.root
	if err := f.index(); err != nil {
		return nil, err
	}
	return f, nil
}

// index reads every header of the archive.
func (f *FS) index() error {
	s := &stream{dev: f.dev}
	tr := tar.NewReader(s)
	f.budget = indexBudget
	for {
		at := s.pos
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil // names are checked below, the same with any GODEBUG
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &FormatError{Offset: at, Err: describe(err)}
		}
		bad := func(format string, args ...any) error {
			return &FormatError{Offset: at, Entry: hdr.Name, Err: fmt.Errorf(format, args...)}
		}
		if len(hdr.Name) > MaxName || len(hdr.Linkname) > MaxName {
			return bad("a name longer than %d bytes", MaxName)
		}
		// The data follows the header (and the extended headers tar.Reader
		// has consumed with it).
		if hdr.Size > s.size()-s.pos {
			return bad("its %d bytes at byte %d go past the end of the archive (%d bytes)", hdr.Size, s.pos, s.size())
		}
		if err := f.add(hdr, s.pos); err != nil {
			return bad("%v", err)
		}
	}
	f.link()
	return nil
}

// describe says what the tar reader's errors mean.
func describe(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated: the archive ends inside an entry (%w)", err)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("not a tar header (%w)", err)
	}
	return err
}

// clean turns an archive's name into a name of the file system: tar's
// leading "/" and "./" go, and a name that leaves the archive ("..") is
// refused.
func clean(name string) (string, error) {
	p := path.Clean("/" + name) // "/" + anything cleans to an absolute path without ".."
	if strings.Contains("/"+name+"/", "/../") {
		return "", fmt.Errorf("a name with \"..\" in it")
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("a name that is not UTF-8, which io/fs cannot name")
	}
	if p == "/" {
		return ".", nil
	}
	return p[1:], nil
}

// add puts one header in the index.
func (f *FS) add(hdr *tar.Header, offset int64) error {
	name, err := clean(hdr.Name)
	if err != nil {
		return err
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("a sparse file, which tarfs does not read (make the archive without --sparse)")
		}
	}
	perm := hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	e := &entry{name: name, modTime: hdr.ModTime}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeCont:
		e.mode, e.size, e.offset = perm, hdr.Size, offset
	case tar.TypeDir:
		e.mode = fs.ModeDir | perm
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return fmt.Errorf("a symbolic link to nothing")
		}
		e.mode, e.link = fs.ModeSymlink|perm, hdr.Linkname
	case tar.TypeLink:
		target, err := clean(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %v", hdr.Linkname, err)
		}
		t := f.entries[target]
		if t == nil || !t.mode.IsRegular() {
			return fmt.Errorf("hard link to %q, which is not a file earlier in the archive", hdr.Linkname)
		}
		e.mode, e.size, e.offset = perm, t.size, t.offset
	case tar.TypeGNUSparse:
		return fmt.Errorf("a sparse file, which tarfs does not read (make the archive without --sparse)")
	default:
		// Device nodes, FIFOs, global headers, volume labels: nothing to serve.
		return nil
	}
	if name == "." {
		if !e.mode.IsDir() {
			return fmt.Errorf("the root is not a directory")
		}
		f.root.mode, f.root.modTime = e.mode, e.modTime
		return nil
	}
	if err := f.charge(len(name) + len(e.link)); err != nil {
		return err
	}
	// Its directories, made when the archive does not name them first.
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		d := f.entries[dir]
		if d == nil {
			if err := f.charge(0); err != nil { // the name is part of name's
				return err
			}
			f.entries[dir] = &entry{name: dir, mode: fs.ModeDir | 0o555}
			continue
		}
		if !d.mode.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
	}
	if old := f.entries[name]; old != nil && old.mode.IsDir() != e.mode.IsDir() {
		return fmt.Errorf("both a directory and not one")
	}
	f.entries[name] = e // the later of two entries wins, as when tar extracts them
	return nil
}

// charge counts an entry with names of n bytes against the index's budget.
func (f *FS) charge(n int) error {
	if f.budget -= int64(n + entryOverhead); f.budget < 0 {
		return fmt.Errorf("the index of the archive would take more than %d KiB of memory: too many entries, or names too long", indexBudget>>10)
	}
	return nil
}

// link fills in the children of the directories, sorted by name (siblings
// sort by their full names as by their own), and counts the files.
func (f *FS) link() {
	names := make([]string, 0, len(f.entries))
	for name := range f.entries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name == "." {
			continue
		}
		e := f.entries[name]
		parent := f.entries[path.Dir(name)]
		parent.children = append(parent.children, e)
		if e.mode.IsRegular() {
			f.files++
		}
	}
}

// Files is the number of regular files in the archive.
func (f *FS) Files() int { return f.files }

// lookup finds name, following the symbolic links on the way, and the last
// one too when follow is set.
func (f *FS) lookup(op, name string, follow bool) (*entry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return f.root, nil
	}
	parts := strings.Split(name, "/")
	dir, links := f.root, 0
	for i := 0; i < len(parts); i++ {
		if !dir.mode.IsDir() {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		e := f.entries[join(dir.name, parts[i])]
		if e == nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		last := i == len(parts)-1
		if e.mode&fs.ModeSymlink == 0 || last && !follow {
			dir = e
			continue
		}
		if links++; links > maxLinks {
			return nil, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		target, ok := resolve(dir.name, e.link)
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("symbolic link %s -> %s leaves the archive: %w", e.name, e.link, fs.ErrNotExist)}
		}
		// Start again from the root with the target and what follows it.
		rest := parts[i+1:]
		parts = nil
		if target != "." {
			parts = strings.Split(target, "/")
		}
		parts = append(parts, rest...)
		dir, i = f.root, -1
	}
	return dir, nil
}

// resolve is the name a symbolic link in dir points to, if it is in the
// archive. An absolute target is taken from the archive's root, as tar
// takes absolute names.
func resolve(dir, target string) (string, bool) {
	if strings.HasPrefix(target, "/") {
		dir = "."
	}
	p := path.Join(dir, strings.TrimLeft(target, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// Open opens the named file (following symbolic links). A regular file
// implements io.ReaderAt and io.Seeker besides fs.File; a directory,
// fs.ReadDirFile.
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	if e.mode.IsDir() {
		return &dir{e: e, name: name}, nil
	}
	return &file{fsys: f, e: e, name: name}, nil
}

// ReadFile reads the whole named file in one request to the device.
func (f *FS) ReadFile(name string) ([]byte, error) {
	e, err := f.lookup("read", name, true)
	if err != nil {
		return nil, err
	}
	if e.mode.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	b := make([]byte, e.size)
	if _, err := f.dev.ReadAt(b, e.offset); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

// Stat describes the named file, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return info{e, path.Base(name)}, nil
}

// Lstat describes the named file; a symbolic link is described itself.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return info{e, path.Base(name)}, nil
}

// ReadLink returns the target of the named symbolic link, as the archive
// holds it.
func (f *FS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.link, nil
}

// ReadDir lists the named directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return dirEntries(e.children), nil
}

func dirEntries(es []*entry) []fs.DirEntry {
	list := make([]fs.DirEntry, len(es))
	for i, c := range es {
		list[i] = fs.FileInfoToDirEntry(info{c, path.Base(c.name)})
	}
	return list
}

// info is an entry as fs.FileInfo, under the name it was asked by.
type info struct {
	e    *entry
	name string
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.e.size }
func (i info) Mode() fs.FileMode  { return i.e.mode }
func (i info) ModTime() time.Time { return i.e.modTime }
func (i info) IsDir() bool        { return i.e.mode.IsDir() }
func (i info) Sys() any           { return nil }

// readAhead is how much a file reads from the device at a time when its
// reader asks for less: a request costs a VM exit in hvt.
const readAhead = 32 << 10

// file is an open regular file.
type file struct {
	fsys   *FS
	e      *entry
	name   string
	off    int64 // of the next Read, in the file
	buf    []byte
	bufOff int64 // in the file, of buf[0]
	closed bool
}

func (f *file) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "stat", Path: f.name, Err: fs.ErrClosed}
	}
	return info{f.e, path.Base(f.name)}, nil
}

func (f *file) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if f.off >= f.e.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.off < f.bufOff || f.off >= f.bufOff+int64(len(f.buf)) {
		if len(p) >= readAhead {
			n, err := f.ReadAt(p, f.off)
			f.off += int64(n)
			if err == io.EOF && n > 0 {
				err = nil
			}
			return n, err
		}
		n := min(readAhead, f.e.size-f.off)
		if cap(f.buf) < int(n) {
			f.buf = make([]byte, n)
		}
		f.buf = f.buf[:n]
		if _, err := f.fsys.dev.ReadAt(f.buf, f.e.offset+f.off); err != nil {
			f.buf = f.buf[:0]
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		f.bufOff = f.off
	}
	n := copy(p, f.buf[f.off-f.bufOff:])
	f.off += int64(n)
	return n, nil
}

// ReadAt reads at off in the file, straight from the device.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= f.e.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := f.e.size - off; int64(want) > rest {
		p = p[:rest]
	}
	n, err := f.fsys.dev.ReadAt(p, f.e.offset+off)
	if err != nil {
		return n, &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.e.size
	case io.SeekStart:
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

func (f *file) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed, f.buf = true, nil
	return nil
}

// dir is an open directory.
type dir struct {
	e      *entry
	name   string
	next   int // of the children, for ReadDir
	closed bool
}

func (d *dir) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.name, Err: fs.ErrClosed}
	}
	return info{d.e, path.Base(d.name)}, nil
}

func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	rest := d.e.children[d.next:]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	d.next += len(rest)
	return dirEntries(rest), nil
}

func (d *dir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}
