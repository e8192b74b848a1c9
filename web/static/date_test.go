package static

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDateCache(t *testing.T) {
	var c dateCache
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 100, time.FixedZone("", 3600))
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{t0, "Tue, 24 Nov 2026 07:00:00 GMT"},
		{t0.Add(500 * time.Millisecond), "Tue, 24 Nov 2026 07:00:00 GMT"},
		{t0.Add(time.Second), "Tue, 24 Nov 2026 07:00:01 GMT"},
		{t0.Add(-time.Hour), "Tue, 24 Nov 2026 06:00:00 GMT"},
		{t0.UTC(), "Tue, 24 Nov 2026 07:00:00 GMT"},
	} {
		if got := c.value(tc.now); got != tc.want {
			t.Errorf("value(%v) = %q, want %q", tc.now, got, tc.want)
		}
	}
}

// TestDateHeader checks that files carry the time of the response, whole
// or in part, and
// that a Date set before the handler runs is kept.
func TestDateHeader(t *testing.T) {
	h := newHandler(t, tree(t))
	for _, preset := range []string{"", "Mon, 02 Jan 2006 15:04:05 GMT"} {
		for _, rng := range []string{"", "bytes=0-9"} { // the fast path and ServeContent's
			target := "/big.bin"
			w := httptest.NewRecorder()
			if preset != "" {
				w.Header()["Date"] = []string{preset}
			}
			r := httptest.NewRequest("GET", target, nil)
			if rng != "" {
				r.Header.Set("Range", rng)
			}
			before := time.Now().Truncate(time.Second)
			h.ServeHTTP(w, r)
			got := w.Header().Values("Date")
			if len(got) != 1 {
				t.Fatalf("%s: Date %q, want one value", target, got)
			}
			if preset != "" {
				if got[0] != preset {
					t.Errorf("%s: Date %q, want the preset %q", target, got[0], preset)
				}
				continue
			}
			d, err := http.ParseTime(got[0])
			if err != nil || d.Before(before) || d.After(time.Now()) {
				t.Errorf("%s: Date %q (%v), want the time of the request", target, got[0], err)
			}
		}
	}
}
