package dns_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packages returns the directories of the packages of the DNS library.
func packages(t *testing.T) []string {
	t.Helper()
	dirs := []string{"."}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

// TestPackageDocs: every package says what it is for and why it is so,
// in a doc comment of a few sentences at least.
func TestPackageDocs(t *testing.T) {
	for _, dir := range packages(t) {
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			doc := ""
			for _, f := range p.Files {
				if f.Doc != nil {
					doc += f.Doc.Text()
				}
			}
			if len(strings.Fields(doc)) < 30 {
				t.Errorf("package %s (%s): doc comment of %d words, want a real one", name, dir, len(strings.Fields(doc)))
			}
		}
	}
}

// TestWireHasNoDependencies: package wire is the hot path's parser and
// must stay free of anything but the standard library.
func TestWireHasNoDependencies(t *testing.T) {
	files, _ := filepath.Glob("wire/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if path := strings.Trim(imp.Path.Value, `"`); strings.Contains(path, ".") {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
