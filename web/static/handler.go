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
	noFastPath   bool // serve everything through ServeContent, for tests
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
	// The slash is added only where it is missing: Clean allocates for a
	// path it changes, as "//x" would be.
	if !strings.HasPrefix(urlPath, "/") {
		urlPath = "/" + urlPath
	}
	name := strings.TrimPrefix(path.Clean(urlPath), "/")
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
	hdr := w.Header()
	vals := make(headerValues, 0, maxHeaders)
	rep := h.negotiate(hdr, &vals, r, f)
	if rep.data != nil && !h.noFastPath && whole(r) {
		h.serveWhole(w, r, hdr, &vals, f, rep)
		return
	}
	content, err := h.open(rep)
	if err != nil {
		h.log.Error("static: open", "file", rep.path, "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	defer content.Close()
	vals.set(hdr, "Etag", rep.etag)
	vals.set(hdr, "Cache-Control", h.cacheControl)
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
	http.ServeContent(&contentWriter{ResponseWriter: w, length: rep.length}, r, f.name, f.modTime, content)
}

// whole reports whether r asks for all of a representation, without
// conditions: the request of nearly every client, and of every load
// generator, to which http.ServeContent has nothing to decide.
func whole(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, k := range conditional {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}

// conditional are the request header fields ServeContent acts on, as
// net/http's server stores them (canonical).
var conditional = [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"}

// serveWhole writes what http.ServeContent would, header field for header
// field, to a request for which whole holds, of a representation kept in
// memory, without parsing and formatting per request what load did once.
// The differential test in handler_test.go keeps the two in step.
func (h *Handler) serveWhole(w http.ResponseWriter, r *http.Request, hdr http.Header, vals *headerValues, f *file, rep *rep) {
	vals.set(hdr, "Etag", rep.etag)
	vals.set(hdr, "Cache-Control", h.cacheControl)
	if f.lastMod != "" {
		vals.set(hdr, "Last-Modified", f.lastMod)
	}
	vals.set(hdr, "Accept-Ranges", "bytes")
	// ServeContent sets Content-Length when there is no Content-Encoding,
	// contentWriter when there is and it is missing.
	if first(hdr, "Content-Encoding") == "" || first(hdr, "Content-Length") == "" {
		if r.Method == http.MethodHead || len(rep.data) > autoLengthMax {
			vals.set(hdr, "Content-Length", rep.length)
		} else {
			delete(hdr, "Content-Length") // net/http's will be right
		}
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(rep.data)
	}
}

// negotiate chooses the representation of f for r and sets the headers that
// describe it.
func (h *Handler) negotiate(hdr http.Header, vals *headerValues, r *http.Request, f *file) *rep {
	coding := codingIdentity
	if f.variants() {
		vals.add(hdr, "Vary", "Accept-Encoding")
		coding = parseAcceptEncoding(r.Header["Accept-Encoding"]).choose(func(c string) bool { return f.rep(c) != nil })
	}
	rep := f.rep(coding)
	vals.set(hdr, "Content-Type", f.ctype)
	vals.set(hdr, "X-Content-Type-Options", "nosniff")
	if coding != codingIdentity {
		vals.set(hdr, "Content-Encoding", coding)
	}
	return rep
}

// autoLengthMax is the largest body whose Content-Length net/http's server
// writes itself, when the handler has returned with the body still in the
// connection's buffer: 2 KiB in HTTP/1.x (bufferBeforeChunkingSize), 4 KiB
// in HTTP/2. It writes it outside the header map, which it sorts for every
// response: a small file's response costs less with one field fewer there,
// and up to eight fields fit in one group of Go's map.
const autoLengthMax = 2048

// maxHeaders is the most header fields a response of the handler sets:
// Vary, Content-Type, X-Content-Type-Options, Content-Encoding, Etag,
// Cache-Control, Last-Modified, Accept-Ranges and Content-Length.
const maxHeaders = 9

// headerValues hands out the values of a response's header fields from
// one array: one allocation rather than one per field. Keys are given
// canonical, so that, unlike http.Header's Set and Add, nothing
// canonicalises them per request. Each field gets a slice with no room
// beyond its value, so that an Add by other code copies it rather than
// writing over the next field's value.
type headerValues []string

// set is http.Header.Set for a canonical key.
func (vs *headerValues) set(hdr http.Header, key, value string) {
	*vs = append(*vs, value)
	n := len(*vs)
	hdr[key] = (*vs)[n-1 : n : n]
}

// add is http.Header.Add for a canonical key.
func (vs *headerValues) add(hdr http.Header, key, value string) {
	if old := hdr[key]; len(old) > 0 {
		hdr[key] = append(old, value)
		return
	}
	vs.set(hdr, key, value)
}

// first is http.Header.Get for a canonical key.
func first(hdr http.Header, key string) string {
	if v := hdr[key]; len(v) > 0 {
		return v[0]
	}
	return ""
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
	hdr := w.Header()
	vals := make(headerValues, 0, maxHeaders)
	rep := h.negotiate(hdr, &vals, r, h.notFound)
	content, err := h.open(rep)
	if err != nil {
		h.log.Error("static: open", "file", rep.path, "err", err)
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	defer content.Close()
	vals.set(hdr, "Cache-Control", "no-cache")
	vals.set(hdr, "Content-Length", rep.length)
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.Copy(w, content)
	}
}
