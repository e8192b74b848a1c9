package static

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateCache keeps the Date header of the current second. net/http formats
// the time for every response that has no Date; a server answering
// thousands of requests a second formats it once a second instead, as
// nginx does.
type dateCache struct {
	last atomic.Pointer[dateStamp]
}

type dateStamp struct {
	sec   int64
	value string
}

// value returns now as the Date header has it (RFC 9110's IMF-fixdate).
func (c *dateCache) value(now time.Time) string {
	sec := now.Unix()
	if d := c.last.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &dateStamp{sec: sec, value: now.UTC().Format(http.TimeFormat)}
	c.last.Store(d)
	return d.value
}
