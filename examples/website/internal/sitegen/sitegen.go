// Package sitegen builds the website example's site from the repository:
// README.md and docs/*.md rendered to HTML with goldmark inside the one
// layout, the style sheet, a 404 page, the two benchmark files, and beside
// every text file its precompressed .gz and .br variants.
//
// It runs at build time (go generate ./examples/website), not in the
// image: the image embeds the result and never renders or compresses
// anything. Its output depends only on the Markdown it reads, so that a test
// can regenerate the site and compare it with the committed one.
package sitegen

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"

	"github.com/morgana-os/morgana/examples/website/internal/layout"
)

// RepoURL is where links to repository files that are not pages of the
// site point.
const RepoURL = "https://github.com/morgana-os/morgana"

// A source is one Markdown document of the repository and the page it
// becomes.
type source struct {
	file string // in the repository: "docs/abi.md"
	page string // in the site: "docs/abi.html"
}

// Build returns the site generated from the repository at root: file names
// (slash-separated) and contents, variants included.
func Build(root string) (map[string][]byte, error) {
	sources, err := findSources(root)
	if err != nil {
		return nil, err
	}
	var docs []string
	for _, s := range sources[1:] {
		docs = append(docs, strings.TrimSuffix(path.Base(s.file), ".md"))
	}
	nav := layout.Nav(docs)
	pages := map[string]string{} // repository file -> site path, for links
	for _, s := range sources {
		pages[s.file] = sitePath(s.page)
	}
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	site := map[string][]byte{}
	for _, s := range sources {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(s.file)))
		if err != nil {
			return nil, fmt.Errorf("sitegen: %w", err)
		}
		title, body, err := render(md, root, s.file, src, pages)
		if err != nil {
			return nil, fmt.Errorf("sitegen: %s: %w", s.file, err)
		}
		site[s.page], err = page(layout.Page{Title: title, Path: sitePath(s.page), Body: body, Nav: nav})
		if err != nil {
			return nil, err
		}
	}
	if site["404.html"], err = page(layout.Page{Title: "Not found", Nav: nav, Body: notFoundBody}); err != nil {
		return nil, err
	}
	site["style.css"] = []byte(layout.CSS)
	site["bench/1k.html"] = benchPage()
	site["bench/100k.bin"] = benchFile()
	if err := addVariants(site); err != nil {
		return nil, err
	}
	return site, nil
}

const notFoundBody = `<h1>Not found</h1>
<p class="lead">There is no page at this address. This site has only what was embedded in the image when it was built.</p>
<p><a href="/">Back to the start</a>.</p>
`

// findSources lists README.md, then docs/*.md in name order.
func findSources(root string) ([]source, error) {
	sources := []source{{"README.md", "index.html"}}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, fmt.Errorf("sitegen: %w", err)
	}
	slices.Sort(docs)
	for _, d := range docs {
		name := strings.TrimSuffix(filepath.Base(d), ".md")
		sources = append(sources, source{"docs/" + name + ".md", "docs/" + name + ".html"})
	}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err != nil {
		return nil, fmt.Errorf("sitegen: %w", err)
	}
	return sources, nil
}

// sitePath is the URL path of a site file: index pages are their directory.
func sitePath(file string) string {
	if file == "index.html" {
		return "/"
	}
	return "/" + file
}

func page(p layout.Page) ([]byte, error) {
	var b bytes.Buffer
	if err := layout.Render(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// render turns one Markdown document into its title and HTML body, with
// its links rewritten for the site.
func render(md goldmark.Markdown, root, file string, src []byte, pages map[string]string) (title, body string, err error) {
	doc := md.Parser().Parse(text.NewReader(src))
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level == 1 && title == "" {
				title = plainText(n, src)
			}
		case *ast.Link:
			n.Destination = []byte(rewriteLink(root, file, string(n.Destination), pages))
		case *ast.Image:
			n.Destination = []byte(rewriteLink(root, file, string(n.Destination), pages))
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return "", "", err
	}
	if title == "" {
		title = strings.TrimSuffix(path.Base(file), ".md")
	}
	var b bytes.Buffer
	if err := md.Renderer().Render(&b, src, doc); err != nil {
		return "", "", err
	}
	return title, b.String(), nil
}

// plainText is the text of n without markup.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
		case *ast.String:
			b.Write(c.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
