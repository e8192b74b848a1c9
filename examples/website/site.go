package main

import (
	"embed"
	"io/fs"
)

// The site is generated from the repository's Markdown, and committed, so
// that building the image needs nothing but the Go toolchain; site_test.go
// fails when it is stale.
//go:generate go run ./internal/gen -root ../.. -o site

//go:embed site
var siteFiles embed.FS

// site returns the embedded site, rooted at its top directory.
func site() fs.FS {
	sub, err := fs.Sub(siteFiles, "site")
	if err != nil {
		panic(err) // "site" is a valid path, and embedded
	}
	return sub
}
