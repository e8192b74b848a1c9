package sitegen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"path"
	"slices"

	"github.com/andybalholm/brotli"
)

// compressible are the extensions of the files that get precompressed
// variants; the others (images, the random benchmark file) do not shrink.
var compressible = []string{".html", ".css", ".js", ".svg", ".txt", ".json", ".xml"}

// addVariants adds NAME.gz and NAME.br beside every compressible NAME,
// each at its format's best compression, when it is smaller than NAME.
func addVariants(site map[string][]byte) error {
	var names []string
	for name := range site {
		if slices.Contains(compressible, path.Ext(name)) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		data := site[name]
		gz, err := gzipBytes(data)
		if err != nil {
			return fmt.Errorf("sitegen: gzip %s: %w", name, err)
		}
		br, err := brotliBytes(data)
		if err != nil {
			return fmt.Errorf("sitegen: brotli %s: %w", name, err)
		}
		if len(gz) < len(data) {
			site[name+".gz"] = gz
		}
		if len(br) < len(data) {
			site[name+".br"] = br
		}
	}
	return nil
}

// gzipBytes compresses data with no name and no time in the header, so the
// output depends on the data alone.
func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func brotliBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	bw := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := bw.Write(data); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
