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
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
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

// Logger wraps handlers. Lines are written whole, one Write each, in the
// order requests finish; the writer need not be safe for concurrent use.
type Logger struct {
	format Format
	now    func() time.Time

	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// New returns a logger writing lines of the given format to w.
func New(w io.Writer, format Format) *Logger {
	return &Logger{w: w, format: format, now: time.Now}
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
	defer l.mu.Unlock()
	b := appendLine(l.buf[:0], l.format, r, rec.status(), rec.bytes, start)
	l.w.Write(b) // a console that fails has nowhere to report it
	l.buf = b
}

// appendLine formats one line, with its newline.
func appendLine(b []byte, format Format, r *http.Request, status int, n int64, t time.Time) []byte {
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
	b = t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
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
