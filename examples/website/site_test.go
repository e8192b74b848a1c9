package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/morgana-os/morgana/examples/website/internal/sitegen"
)

// The embedded site must be what the generator makes of today's Markdown.
// Compressed variants are compared by what they decompress to, so that a
// new version of a compressor does not make the site stale.
func TestSiteUpToDate(t *testing.T) {
	want, err := sitegen.Build("../..")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = fs.WalkDir(site(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		got[p], err = fs.ReadFile(site(), p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const regen = "run go generate ./examples/website"
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("site/%s is missing: %s", name, regen)
		case path.Ext(name) == ".gz" || path.Ext(name) == ".br":
			plain := want[strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".br")]
			if d, err := decompress(name, g); err != nil || !bytes.Equal(d, plain) {
				t.Errorf("site/%s is stale (%v): %s", name, err, regen)
			}
		case !bytes.Equal(g, w):
			t.Errorf("site/%s is stale: %s", name, regen)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("site/%s is not generated any more: %s", name, regen)
		}
	}
}

func decompress(name string, data []byte) ([]byte, error) {
	var r io.Reader = brotli.NewReader(bytes.NewReader(data))
	if path.Ext(name) == ".gz" {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		r = zr
	}
	return io.ReadAll(r)
}
