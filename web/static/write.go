package static

import (
	"errors"
	"io"
	"net/http"
	"sync"
)

// contentWriter is the ResponseWriter ServeContent writes a file to.
type contentWriter struct {
	http.ResponseWriter
	length string // of the representation, in decimal
}

// WriteHeader sets Content-Length on a 200 response that lacks one:
// ServeContent leaves it out of a whole response when Content-Encoding is
// set (it guards against handlers that compress on the fly), and ours are
// precompressed, of known size.
func (w *contentWriter) WriteHeader(code int) {
	if hdr := w.Header(); code == http.StatusOK && first(hdr, "Content-Length") == "" {
		hdr["Content-Length"] = []string{w.length}
	}
	w.ResponseWriter.WriteHeader(code)
}

// ReadFrom is how ServeContent's copy reaches the connection. Content in
// memory goes in one Write, straight from where it is kept (for an
// embedded file, the image's read-only data): no copy through a buffer,
// and one system call where the socket takes it all.
func (w *contentWriter) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if m, ok := lr.R.(*memReader); ok {
			b := m.next(lr.N)
			lr.N -= int64(len(b))
			n, err := w.Write(b)
			return int64(n), err
		}
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(writerOnly{w}, src, *buf)
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writerOnly hides ReadFrom from io.CopyBuffer, which would call it again.
type writerOnly struct{ io.Writer }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *contentWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// memReader reads a representation kept in memory.
type memReader struct {
	data []byte
	off  int64
}

func (m *memReader) Read(p []byte) (int, error) {
	if m.off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[m.off:])
	m.off += int64(n)
	return n, nil
}

func (m *memReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += m.off
	case io.SeekEnd:
		offset += int64(len(m.data))
	default:
		return 0, errors.New("static: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("static: seek before the start")
	}
	m.off = offset
	return offset, nil
}

// next returns up to n bytes from the current offset, and moves past them.
func (m *memReader) next(n int64) []byte {
	start := min(m.off, int64(len(m.data)))
	end := min(start+max(n, 0), int64(len(m.data)))
	m.off = end
	return m.data[start:end]
}

func (m *memReader) Close() error { return nil }
