// Command gen writes the website example's site (package sitegen) into a
// directory, and removes the files there it did not write, so that a
// document deleted from the repository leaves the site too. It is run by
// go generate ./examples/website.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/morgana-os/morgana/examples/website/internal/sitegen"
)

func main() {
	root := flag.String("root", "../..", "the repository's root directory")
	out := flag.String("o", "site", "the directory to write the site into")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		slog.Error("gen", "err", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	site, err := sitegen.Build(root)
	if err != nil {
		return err
	}
	for name, data := range site {
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	var stale []string
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		if _, ok := site[filepath.ToSlash(rel)]; !ok {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	fmt.Printf("gen: %d files in %s (%d removed)\n", len(site), out, len(stale))
	return nil
}
