package static

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Options adjust a Handler. The zero value is usable.
type Options struct {
	// NotFound names the file served, with status 404, for paths that name
	// no file ("404.html"). Empty, or naming no file: a plain-text 404.
	NotFound string
	// ModTime is the Last-Modified time of files whose fs.FS reports
	// none, as embed.FS does. Zero: the time New was called. ETags, not
	// times, are what make revalidation exact; this is for clients that
	// only send If-Modified-Since.
	ModTime time.Time
	// CacheControl is sent with every file. Empty: "no-cache", which lets
	// clients keep files but makes them revalidate, cheaply, with the
	// ETag: the site's file names carry no version.
	CacheControl string
	// Logger receives what New noticed about the tree (skipped variants)
	// and errors reading it later. Nil: slog.Default().
	Logger *slog.Logger
}

// Handler serves the files of an fs.FS. It is safe for concurrent use.
type Handler struct {
	fsys         fs.FS
	files        map[string]*file
	notFound     *file
	cacheControl string
	log          *slog.Logger
}

// New reads fsys once and returns a handler serving its files. fsys must
// not change afterwards.
func New(fsys fs.FS, opts Options) (*Handler, error) {
	h := &Handler{fsys: fsys, cacheControl: opts.CacheControl, log: opts.Logger}
	if h.cacheControl == "" {
		h.cacheControl = "no-cache"
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	mod := opts.ModTime
	if mod.IsZero() {
		mod = time.Now()
	}
	files, skipped, err := load(fsys, mod)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		h.log.Warn("static: variant ignored", "file", s)
	}
	h.files = files
	if opts.NotFound != "" {
		h.notFound = files[opts.NotFound]
		if h.notFound == nil {
			return nil, fmt.Errorf("static: the 404 page %q is not in the tree", opts.NotFound)
		}
	}
	return h, nil
}

// ServeHTTP serves GET and HEAD requests for the tree's files. "/" and
// "/DIR/" serve the directory's index.html; "/DIR" redirects to "/DIR/"
// when that has one; "/NAME" serves NAME.html when there is no file NAME.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, redirect := h.lookup(r.URL.Path)
	switch {
	case redirect != "":
		if q := r.URL.RawQuery; q != "" {
			redirect += "?" + q
		}
		w.Header().Set("Location", redirect)
		w.WriteHeader(http.StatusMovedPermanently)
	case f == nil:
		h.serveNotFound(w, r)
	default:
		h.serveFile(w, r, f)
	}
}

// lookup finds the file for a request path, or the relative URL to
// redirect to.
func (h *Handler) lookup(urlPath string) (f *file, redirect string) {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		return h.files["index.html"], ""
	}
	if strings.HasSuffix(urlPath, "/") {
		return h.files[name+"/index.html"], ""
	}
	if f := h.files[name]; f != nil {
		return f, ""
	}
	if h.files[name+"/index.html"] != nil {
		return nil, path.Base(name) + "/"
	}
	return h.files[name+".html"], ""
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	rep := h.negotiate(w, r, f)
	content, err := h.open(rep)
	if err != nil {
		h.log.Error("static: open", "file", rep.path, "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	defer content.Close()
	hdr := w.Header()
	hdr.Set("Etag", rep.etag)
	hdr.Set("Cache-Control", h.cacheControl)
	if rng := r.Header.Get("Range"); rng != "" {
		if fixed := fixRange(rng, rep.size); fixed != rng {
			r = r.Clone(r.Context())
			if fixed == "" {
				r.Header.Del("Range")
			} else {
				r.Header.Set("Range", fixed)
			}
		}
	}
	http.ServeContent(&contentWriter{ResponseWriter: w, size: rep.size}, r, f.name, f.modTime, content)
}

// negotiate chooses the representation of f for r and sets the headers that
// describe it.
func (h *Handler) negotiate(w http.ResponseWriter, r *http.Request, f *file) *rep {
	hdr := w.Header()
	coding := codingIdentity
	if f.variants() {
		hdr.Add("Vary", "Accept-Encoding")
		coding = parseAcceptEncoding(r.Header.Values("Accept-Encoding")).choose(func(c string) bool { return f.rep(c) != nil })
	}
	rep := f.rep(coding)
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if coding != codingIdentity {
		hdr.Set("Content-Encoding", coding)
	}
	return rep
}

// readSeekCloser is what ServeContent needs of an open file.
type readSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

// open opens a representation for reading; files that cannot seek are read
// into memory.
func (h *Handler) open(rep *rep) (readSeekCloser, error) {
	if rep.data != nil {
		return &memReader{data: rep.data}, nil
	}
	f, err := h.fsys.Open(rep.path)
	if err != nil {
		return nil, err
	}
	if rs, ok := f.(readSeekCloser); ok {
		return rs, nil
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return &memReader{data: data}, nil
}

// fixRange returns the Range header to hand http.ServeContent in place of
// rng, which it would answer against RFC 9110 (golang/go#81508, #81262):
//   - a unit other than bytes must be ignored (section 14.2), and units are
//     case-insensitive ("Bytes=0-9"), where ServeContent answers 416: ""
//     (no Range) or the unit in lower case;
//   - a suffix of no bytes ("-0") selects nothing (section 14.1.1), where
//     ServeContent answers 206 with the invalid "bytes SIZE-(SIZE-1)/SIZE":
//     left out, and when nothing else is left, "bytes=SIZE-", which
//     ServeContent answers, after the preconditions, with 416 and
//     Content-Range: bytes */SIZE.
//
// A header without "=" is left for ServeContent to reject.
func fixRange(rng string, size int64) string {
	unit, set, ok := strings.Cut(rng, "=")
	if !ok {
		return rng
	}
	if !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return ""
	}
	var specs []string
	for _, spec := range strings.Split(set, ",") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(spec), "-"); ok && n != "" && strings.Trim(n, "0") == "" {
			continue
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return "bytes=" + strconv.FormatInt(size, 10) + "-"
	}
	return "bytes=" + strings.Join(specs, ",")
}

func (h *Handler) serveNotFound(w http.ResponseWriter, r *http.Request) {
	if h.notFound == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	rep := h.negotiate(w, r, h.notFound)
	content, err := h.open(rep)
	if err != nil {
		h.log.Error("static: open", "file", rep.path, "err", err)
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	defer content.Close()
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.FormatInt(rep.size, 10))
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.Copy(w, content)
	}
}
