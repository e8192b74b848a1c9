package static

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// countingWriter counts the Writes that reach the connection.
type countingWriter struct {
	*httptest.ResponseRecorder
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.ResponseRecorder.Write(p)
}

// A file kept in memory reaches the connection in one Write, whole or as a
// range; one that is too big to keep is read from the tree, in chunks.
func TestWrites(t *testing.T) {
	small := bytes.Repeat([]byte("0123456789"), 10<<10) // 100 KiB
	big := bytes.Repeat([]byte("abcdefghij"), (maxInMemory+10)/10)
	h := newHandler(t, fstest.MapFS{"small.bin": {Data: small}, "big.bin": {Data: big}, "404.html": {}})
	if h.files["small.bin"].reps[0].data == nil || h.files["big.bin"].reps[0].data != nil {
		t.Fatal("the small file is not kept in memory, or the big one is")
	}
	tests := []struct {
		name      string
		target    string
		rng       string
		want      []byte
		maxWrites int
	}{
		{"small", "/small.bin", "", small, 1},
		{"small range", "/small.bin", "bytes=1000-60999", small[1000:61000], 1},
		{"big", "/big.bin", "", big, 1 << 10},
		{"big range", "/big.bin", "bytes=1048570-1048579", big[1048570:1048580], 1 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &countingWriter{ResponseRecorder: httptest.NewRecorder()}
			r := httptest.NewRequest("GET", tt.target, nil)
			if tt.rng != "" {
				r.Header.Set("Range", tt.rng)
			}
			h.ServeHTTP(w, r)
			if !bytes.Equal(w.Body.Bytes(), tt.want) {
				t.Errorf("body of %d bytes differs from the %d expected", w.Body.Len(), len(tt.want))
			}
			if w.writes > tt.maxWrites {
				t.Errorf("%d writes, want at most %d", w.writes, tt.maxWrites)
			}
		})
	}
}

func TestMemReader(t *testing.T) {
	m := &memReader{data: []byte("0123456789")}
	steps := []struct {
		offset int64
		whence int
		want   int64
		next   int64 // bytes asked of next after the seek
		got    string
	}{
		{3, io.SeekStart, 3, 4, "3456"},
		{-2, io.SeekCurrent, 5, 100, "56789"},
		{-3, io.SeekEnd, 7, -1, ""},
		{20, io.SeekStart, 20, 5, ""},
	}
	for _, s := range steps {
		off, err := m.Seek(s.offset, s.whence)
		if err != nil || off != s.want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", s.offset, s.whence, off, err, s.want)
		}
		if got := string(m.next(s.next)); got != s.got {
			t.Errorf("next(%d) after Seek(%d, %d) = %q, want %q", s.next, s.offset, s.whence, got, s.got)
		}
	}
	if _, err := m.Seek(-1, io.SeekStart); err == nil {
		t.Error("a seek before the start succeeded")
	}
	m.Seek(8, io.SeekStart)
	if b, err := io.ReadAll(m); string(b) != "89" || err != nil {
		t.Errorf("ReadAll from 8: %q, %v", b, err)
	}
}

// BenchmarkServe measures a whole request of each size through a real
// server (ReportAllocs shows what a request costs the garbage collector).
func BenchmarkServe(b *testing.B) {
	page := bytes.Repeat([]byte("x"), 1<<10)
	file := bytes.Repeat([]byte("y"), 100<<10)
	h := newHandler(b, fstest.MapFS{"1k.html": {Data: page}, "100k.bin": {Data: file}, "404.html": {}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, name := range []string{"1k.html", "100k.bin"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			client := srv.Client()
			for b.Loop() {
				resp, err := client.Get(srv.URL + "/" + name)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}
