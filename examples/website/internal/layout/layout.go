// Package layout is the one page layout and style sheet of the website
// example, shared by the generator, which wraps the rendered Markdown in it
// at build time, and by the image itself, which wraps its "about this
// image" page in it at run time.
//
// It is written with plain string building rather than html/template on
// purpose: the layout runs inside the image, and a template engine would
// add its weight (reflection-heavy text/template, encoding/json) to an image
// whose size the site itself reports. The only dynamic text is escaped with
// html.EscapeString; bodies are HTML the caller vouches for.
package layout

import (
	"cmp"
	"html"
	"io"
	"path"
	"slices"
	"strings"
)

// Link is one entry of the navigation bar.
type Link struct {
	Path  string // the site path it points to: "/docs/abi.html"
	Label string
}

// Page is what one page holds.
type Page struct {
	Title string // plain text
	Path  string // the page's own site path, marked current in the navigation
	Body  string // HTML
	Nav   []Link
}

// labels are the navigation labels of the documents whose file name does
// not make a good one.
var labels = map[string]string{"abi": "Guest ABI"}

// first are the documents that lead the navigation, in this order; the
// others follow in name order.
var first = []string{"design", "abi"}

// Nav returns the navigation of a site with the given documents (their
// names without extension, as in docs/NAME.md): home, the documents, and
// the about page.
func Nav(docs []string) []Link {
	docs = slices.Clone(docs)
	rank := func(d string) int {
		if i := slices.Index(first, d); i >= 0 {
			return i
		}
		return len(first)
	}
	slices.SortStableFunc(docs, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	nav := []Link{{"/", "Home"}}
	for _, d := range docs {
		label := labels[d]
		if label == "" {
			label = strings.ToUpper(d[:1]) + d[1:]
		}
		nav = append(nav, Link{"/docs/" + d + ".html", label})
	}
	return append(nav, Link{"/about", "About this image"})
}

// DocNames returns the document names of site files named docs/NAME.html.
func DocNames(files []string) []string {
	var docs []string
	for _, f := range files {
		if dir, file := path.Split(f); dir == "docs/" && path.Ext(file) == ".html" {
			docs = append(docs, strings.TrimSuffix(file, ".html"))
		}
	}
	return docs
}

// Render writes p as a whole HTML document.
func Render(w io.Writer, p Page) error {
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>`)
	b.WriteString(html.EscapeString(p.Title))
	b.WriteString(` · morgana</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
<a class="brand" href="/">morgana</a>
<nav>`)
	for _, l := range p.Nav {
		b.WriteString(`<a href="`)
		b.WriteString(html.EscapeString(l.Path))
		b.WriteString(`"`)
		if l.Path == p.Path {
			b.WriteString(` aria-current="page"`)
		}
		b.WriteString(`>`)
		b.WriteString(html.EscapeString(l.Label))
		b.WriteString(`</a>`)
	}
	b.WriteString(`</nav>
</header>
<main>
`)
	b.WriteString(p.Body)
	b.WriteString(`</main>
<footer>Served by a morgana unikernel: <a href="/about">about this image</a>. Generated from the repository's Markdown by <code>go generate ./examples/website</code>.</footer>
</body>
</html>
`)
	_, err := io.WriteString(w, b.String())
	return err
}
