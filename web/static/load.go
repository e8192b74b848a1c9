package static

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// file is one servable file and its representations.
type file struct {
	name    string // slash-separated, without a leading slash: "docs/abi.html"
	ctype   string
	modTime time.Time
	lastMod string // modTime as Last-Modified has it; "": none is sent
	reps    []rep  // identity first, then the variants in preference order
}

// rep is one representation of a file: the file itself or a precompressed
// variant of it.
type rep struct {
	coding string // "identity", "br", "gzip"
	path   string // in the fs.FS
	size   int64
	length string // size in decimal, for Content-Length
	etag   string // strong, quoted
	data   []byte // the content, kept when it is small; nil: open path
}

// maxInMemory is the size up to which a representation is kept in memory
// rather than opened at each request: all of a typical site, whose pages
// and assets are then written to the connection in one call each.
const maxInMemory = 1 << 20

// keep returns data when it is small enough to be kept.
func keep(data []byte) []byte {
	if len(data) > maxInMemory {
		return nil
	}
	return data
}

// variants reports whether the file has any precompressed variant.
func (f *file) variants() bool { return len(f.reps) > 1 }

// rep returns the representation with the given coding, or nil.
func (f *file) rep(coding string) *rep {
	for i := range f.reps {
		if f.reps[i].coding == coding {
			return &f.reps[i]
		}
	}
	return nil
}

// load reads every regular file of fsys and returns the servable ones by
// name. A file NAME.br or NAME.gz beside a file NAME is a variant of NAME,
// not a file of its own; a variant that is not smaller than NAME is left
// out, with a note in skipped.
func load(fsys fs.FS, defaultModTime time.Time) (files map[string]*file, skipped []string, err error) {
	var names []string
	all := map[string]bool{}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
			all[p] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("static: walk: %w", err)
	}
	files = map[string]*file{}
	for _, p := range names {
		if isVariant(p, all) {
			continue
		}
		f, skip, err := loadFile(fsys, p, all, defaultModTime)
		if err != nil {
			return nil, nil, err
		}
		files[p] = f
		skipped = append(skipped, skip...)
	}
	return files, skipped, nil
}

// isVariant reports whether p is the precompressed variant of another file.
func isVariant(p string, all map[string]bool) bool {
	for _, suffix := range variantSuffix {
		if base, ok := strings.CutSuffix(p, suffix); ok && all[base] {
			return true
		}
	}
	return false
}

func loadFile(fsys fs.FS, p string, all map[string]bool, defaultModTime time.Time) (*file, []string, error) {
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, nil, fmt.Errorf("static: %w", err)
	}
	info, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, nil, fmt.Errorf("static: %w", err)
	}
	mod := info.ModTime()
	if mod.IsZero() { // embed.FS has no times
		mod = defaultModTime
	}
	mod = mod.Truncate(time.Second) // HTTP dates have seconds
	f := &file{
		name:    p,
		ctype:   contentType(p, data[:min(len(data), 512)]),
		modTime: mod,
		lastMod: lastModified(mod),
		reps:    []rep{newRep(codingIdentity, p, data)},
	}
	var skipped []string
	for _, coding := range preference {
		suffix, ok := variantSuffix[coding]
		if !ok || !all[p+suffix] {
			continue
		}
		v, err := fs.ReadFile(fsys, p+suffix)
		if err != nil {
			return nil, nil, fmt.Errorf("static: %w", err)
		}
		if len(v) >= len(data) {
			skipped = append(skipped, fmt.Sprintf("%s (%d bytes, not smaller than %s's %d)", p+suffix, len(v), path.Base(p), len(data)))
			continue
		}
		f.reps = append(f.reps, newRep(coding, p+suffix, v))
	}
	return f, skipped, nil
}

// newRep describes the representation at path p, of the given content.
func newRep(coding, p string, content []byte) rep {
	return rep{coding: coding, path: p, size: int64(len(content)), length: strconv.Itoa(len(content)),
		etag: etag(content), data: keep(content)}
}

// lastModified is the Last-Modified value http.ServeContent sends for t:
// none for the zero time and the Unix epoch, which it takes for unknown.
func lastModified(t time.Time) string {
	if t.IsZero() || t.Equal(time.Unix(0, 0)) {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

// etag is a strong entity tag for content: 128 bits of its SHA-256.
func etag(content []byte) string {
	sum := sha256.Sum256(content)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}
