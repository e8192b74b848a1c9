package sitegen

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// repo writes a tiny repository: a README, two documents and a directory.
func repo(t *testing.T) string {
	root := t.TempDir()
	files := map[string]string{
		"README.md":         "# Hello *there*\n\nSee [the design](docs/design.md#why), [abi](docs/abi.md), [code](cmd/tool), [a file](go.mod), [web](https://example.com/x.md), [up](../outside.md), [anchor](#top).\n\n<script>alert(1)</script>\n",
		"docs/design.md":    "# Design\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nBack to [the README](../README.md) and [abi](abi.md).\n",
		"docs/abi.md":       "No heading here.\n",
		"cmd/tool/main.go":  "package main\n",
		"go.mod":            "module x\n",
		"docs/notes.txt":    "not Markdown\n",
		"docs/sub/inner.md": "# not a top-level document\n",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestBuild(t *testing.T) {
	site, err := Build(repo(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "docs/design.html", "docs/abi.html", "404.html", "style.css", "bench/1k.html", "bench/100k.bin",
		"index.html.gz", "index.html.br", "style.css.br"} {
		if _, ok := site[name]; !ok {
			t.Errorf("the site has no %s", name)
		}
	}
	for _, name := range []string{"docs/notes.html", "docs/sub/inner.html", "bench/100k.bin.gz", "bench/100k.bin.br"} {
		if _, ok := site[name]; ok {
			t.Errorf("the site has %s", name)
		}
	}
	index := string(site["index.html"])
	for _, want := range []string{
		"<title>Hello there · morgana</title>",
		`<a href="/docs/design.html#why">the design</a>`,
		`<a href="/docs/abi.html">abi</a>`,
		`<a href="` + RepoURL + `/tree/main/cmd/tool">code</a>`,
		`<a href="` + RepoURL + `/blob/main/go.mod">a file</a>`,
		`<a href="https://example.com/x.md">web</a>`,
		`<a href="../outside.md">up</a>`,
		`<a href="#top">anchor</a>`,
		`<h1 id="hello-there">Hello <em>there</em></h1>`,
		`<a href="/" aria-current="page">Home</a>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	if strings.Contains(index, "<script>") {
		t.Error("raw HTML of the Markdown reached the page")
	}
	design := string(site["docs/design.html"])
	for _, want := range []string{`<a href="/">the README</a>`, `<a href="/docs/abi.html">abi</a>`, "<table>", `aria-current="page">Design</a>`} {
		if !strings.Contains(design, want) {
			t.Errorf("docs/design.html lacks %s", want)
		}
	}
	if !strings.Contains(string(site["docs/abi.html"]), "<title>abi · morgana</title>") {
		t.Error("a document without a heading is not titled by its name")
	}
	if n := len(site["bench/1k.html"]); n != benchPageSize {
		t.Errorf("bench/1k.html has %d bytes", n)
	}
	if n := len(site["bench/100k.bin"]); n != benchFileSize {
		t.Errorf("bench/100k.bin has %d bytes", n)
	}
}

func TestVariantsDecompress(t *testing.T) {
	site, err := Build(repo(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range site {
		var r io.Reader
		switch filepath.Ext(name) {
		case ".gz":
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			r = zr
		case ".br":
			r = brotli.NewReader(bytes.NewReader(data))
		default:
			continue
		}
		got, err := io.ReadAll(r)
		orig := site[strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".br")]
		if err != nil || !bytes.Equal(got, orig) {
			t.Errorf("%s does not decompress to its file (%v)", name, err)
		}
		if len(data) >= len(orig) {
			t.Errorf("%s is not smaller than its file", name)
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	root := repo(t)
	a, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Build(root)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
}

func TestBuildNeedsREADME(t *testing.T) {
	if _, err := Build(t.TempDir()); err == nil {
		t.Error("a repository without README.md built")
	}
}
