// Package accesslog writes one line per HTTP request in the Common or
// Combined Log Format, the format of Apache's and nginx's access logs, so
// that the tools built for those (goaccess, awk one-liners, log shippers)
// read a morgana image's console as they read any web server's log.
//
// It is an http.Handler middleware rather than a slog handler because the
// format is fixed by convention, field by field; the program's own events
// go to slog.
package accesslog

import (
	"cmp"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Format is the layout of a line.
type Format int

const (
	// Common is NCSA's: host ident user [time] "request" status bytes.
	Common Format = iota
	// Combined adds "referer" "user-agent".
	Combined
)

// ParseFormat reads "common" or "combined".
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "common":
		return Common, true
	case "combined":
		return Combined, true
	}
	return 0, false
}

// The buffering the website uses by default: nginx's access_log buffer=64k
// flush=1s.
const (
	DefaultBufferSize    = 64 << 10
	DefaultFlushInterval = time.Second
)

// Options configure a Logger.
type Options struct {
	// BufferSize is how many bytes of lines the logger holds before it
	// writes them, in one Write, as nginx's access_log buffer= does. 0
	// writes every line as it is logged. A Write is at most BufferSize
	// bytes, unless it is a single line longer than that.
	BufferSize int
	// FlushInterval is the longest a buffered line waits (nginx's flush=):
	// a timer armed when a line enters an empty buffer writes what the
	// buffer holds, so that an idle server makes no system calls for its
	// log. 0 means DefaultFlushInterval; it is not used without BufferSize.
	FlushInterval time.Duration
	// ErrorLog is where the first failed Write is reported; the lines of a
	// failed Write are dropped, and later failures are not reported. nil
	// means slog.Default().
	ErrorLog *slog.Logger
}

// Logger wraps handlers. Lines are written whole, in the order requests
// finish, never split across Writes; the writer need not be safe for
// concurrent use. A buffered logger must be closed (or flushed) before the
// program exits, or its last lines are lost.
type Logger struct {
	format   Format
	now      func() time.Time
	size     int           // Options.BufferSize; 0: unbuffered
	interval time.Duration // Options.FlushInterval
	errLog   *slog.Logger
	reported atomic.Bool // a write error was reported

	mu     sync.Mutex
	w      io.Writer
	buf    []byte      // the lines not yet written; scratch space when unbuffered
	timer  *time.Timer // writes buf when it fires; nil when unbuffered
	closed bool        // by Close: lines are written as they come
	stamps stampCache  // the time of the last line, formatted
}

// New returns a logger writing lines of the given format to w, one Write
// per line.
func New(w io.Writer, format Format) *Logger {
	return NewWithOptions(w, format, Options{})
}

// NewWithOptions returns a logger writing lines of the given format to w,
// buffered as opts say.
func NewWithOptions(w io.Writer, format Format, opts Options) *Logger {
	l := &Logger{w: w, format: format, now: time.Now, size: max(opts.BufferSize, 0),
		interval: opts.FlushInterval, errLog: opts.ErrorLog}
	if l.size > 0 {
		if l.interval <= 0 {
			l.interval = DefaultFlushInterval
		}
		// Room for the buffer and the line that overflows it, so that
		// appending a line does not allocate.
		l.buf = make([]byte, 0, l.size+4<<10)
		l.timer = time.AfterFunc(time.Hour, l.flushTimer)
		l.timer.Stop()
	}
	return l
}

// Wrap returns a handler that serves with next and then logs the request.
func (l *Logger) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := l.now()
		rec := &recorder{ResponseWriter: w}
		defer func() { l.log(r, rec, start) }()
		next.ServeHTTP(rec, r)
	})
}

func (l *Logger) log(r *http.Request, rec *recorder, start time.Time) {
	l.mu.Lock()
	n := len(l.buf)
	l.buf = appendLine(l.buf, l.format, r, rec.status(), rec.bytes, start, &l.stamps)
	var err error
	switch {
	case l.size == 0 || l.closed:
		err = l.flushLocked()
	case len(l.buf) > l.size && n > 0:
		// The line does not fit: write the lines before it, and keep it.
		err = l.writeLocked(l.buf[:n])
		l.buf = l.buf[:copy(l.buf, l.buf[n:])]
		if len(l.buf) >= l.size { // a line as long as the buffer
			err = cmp.Or(err, l.flushLocked())
		}
		// The timer armed when the written lines came is still running.
	case len(l.buf) >= l.size:
		err = l.flushLocked()
	case n == 0:
		l.timer.Reset(l.interval)
	}
	l.mu.Unlock()
	l.report(err)
}

// Flush writes the lines in the buffer.
func (l *Logger) Flush() error {
	l.mu.Lock()
	err := l.flushLocked()
	l.mu.Unlock()
	l.report(err)
	return err
}

// Close writes the lines in the buffer and stops the logger's timer; lines
// logged after it (by handlers still running) are written as they come.
// It does not close the writer.
func (l *Logger) Close() error {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	err := l.flushLocked()
	l.mu.Unlock()
	l.report(err)
	return err
}

// flushTimer writes the buffer when the flush interval has passed since a
// line entered it. A firing that finds the buffer empty (written since,
// because it filled up or by Flush) makes no Write.
func (l *Logger) flushTimer() {
	l.mu.Lock()
	err := l.flushLocked()
	l.mu.Unlock()
	l.report(err)
}

// flushLocked writes and empties the buffer.
func (l *Logger) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.writeLocked(l.buf)
	l.buf = l.buf[:0]
	return err
}

// writeLocked writes b, whole lines.
func (l *Logger) writeLocked(b []byte) error {
	n, err := l.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return err
}

// report logs the first write error; the lines are lost either way, and a
// console that keeps failing would only fill the log with the same error.
func (l *Logger) report(err error) {
	if err == nil || !l.reported.CompareAndSwap(false, true) {
		return
	}
	log := l.errLog
	if log == nil {
		log = slog.Default()
	}
	log.Error("access log: write failed, lines dropped; later failures are not reported", "err", err)
}

// appendLine formats one line, with its newline; stamps holds the time
// stamp of the previous line, which the next one likely shares.
func appendLine(b []byte, format Format, r *http.Request, status int, n int64, t time.Time, stamps *stampCache) []byte {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	b = appendField(b, host)
	b = append(b, " - "...)
	user := ""
	if r.URL != nil && r.URL.User != nil {
		user = r.URL.User.Username()
	} else if u, _, ok := r.BasicAuth(); ok {
		user = u
	}
	b = appendField(b, user)
	b = append(b, " ["...)
	b = stamps.append(b, t)
	b = append(b, "] \""...)
	b = appendEscaped(b, r.Method)
	b = append(b, ' ')
	b = appendEscaped(b, r.RequestURI)
	b = append(b, ' ')
	b = appendEscaped(b, r.Proto)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if n == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, n, 10)
	}
	if format == Combined {
		b = append(b, " \""...)
		b = appendField(b, r.Referer())
		b = append(b, "\" \""...)
		b = appendField(b, r.UserAgent())
		b = append(b, '"')
	}
	return append(b, '\n')
}

// stampLayout is the time stamp's, Apache's %t without the brackets.
const stampLayout = "02/Jan/2006:15:04:05 -0700"

// stampCache keeps the last time stamp formatted: a busy server logs many
// lines a second, and formatting the time was over a quarter of a line's cost.
// The stamp depends only on the second and the zone offset.
type stampCache struct {
	sec    int64
	offset int
	stamp  []byte // empty until the first time
}

// append appends t formatted with stampLayout.
func (c *stampCache) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	_, offset := t.Zone()
	if len(c.stamp) == 0 || sec != c.sec || offset != c.offset {
		c.stamp = t.AppendFormat(c.stamp[:0], stampLayout)
		c.sec, c.offset = sec, offset
	}
	return append(b, c.stamp...)
}

// appendField appends s, or "-" when it is empty, escaped.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

// appendEscaped appends s with quotes, backslashes, spaces' cousins and
// every other byte outside printable ASCII escaped as \xHH, as Apache does,
// so that no client can forge a line or break a field.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
