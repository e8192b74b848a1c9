package imagebuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/elfimage"
)

func TestResolveFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "image")
	if err := os.WriteFile(f, []byte("anything"), 0o755); err != nil {
		t.Fatal(err)
	}
	path, built, err := Resolve(context.Background(), f, Options{})
	if err != nil || built || path != f {
		t.Errorf("Resolve(file) = %q, %v, %v; want the file itself", path, built, err)
	}
}

func TestResolvePackage(t *testing.T) {
	mod := testModule(t, map[string]string{"hello/main.go": helloSrc, "cmd/hi/main.go": helloSrc})
	cache := setCacheHome(t)
	ctx := context.Background()
	images := filepath.Join(cache, "morgana", "images")

	var first string
	for _, tt := range []struct{ arg, dir string }{
		{filepath.Join(mod, "hello"), ""}, // absolute directory
		{"./hello", mod},                  // relative to Options.Dir
		{"hello", mod},                    // bare name of a directory
		{"../hello", filepath.Join(mod, "cmd")},
	} {
		path, built, err := Resolve(ctx, tt.arg, Options{Dir: tt.dir})
		if err != nil {
			t.Fatalf("Resolve(%q in %q): %v", tt.arg, tt.dir, err)
		}
		if !built || filepath.Dir(path) != images || !strings.HasPrefix(filepath.Base(path), "hello-") {
			t.Errorf("Resolve(%q) = %q, %v; want a fresh image in %s", tt.arg, path, built, images)
		}
		if first == "" {
			first = path
		} else if path != first {
			t.Errorf("Resolve(%q) = %q, want the same cache entry %q", tt.arg, path, first)
		}
		if _, err := elfimage.Open(path); err != nil {
			t.Error(err)
		}
	}

	// An import path is looked up with go list; other flags, other image.
	path, built, err := Resolve(ctx, "example.com/m/cmd/hi", Options{Dir: mod, Flags: []string{"-ldflags=-s -w"}})
	if err != nil || !built || !strings.HasPrefix(filepath.Base(path), "hi-") {
		t.Fatalf("Resolve(import path) = %q, %v, %v", path, built, err)
	}
	if _, err := elfimage.Open(path); err != nil {
		t.Error(err)
	}
}

func TestResolveErrors(t *testing.T) {
	mod := testModule(t, map[string]string{"hello/main.go": helloSrc, "cgo/main.go": cgoSrc, "empty/README": "no code\n"})
	setCacheHome(t)
	for _, tt := range []struct{ arg, want string }{
		{"./missing", "./missing: no such guest image file or package directory"},
		{"/no/such/dir/", "no such guest image file or package directory"},
		{"empty", "empty: directory holds no Go package"},
		{"example.com/m/nothere", "example.com/m/nothere: not a file, directory or Go package"},
		{"./cgo", "build ./cgo: go build failed (exit status 1): example.com/m/cgo uses cgo"},
	} {
		_, _, err := Resolve(context.Background(), tt.arg, Options{Dir: mod})
		if err == nil {
			t.Errorf("Resolve(%q) succeeded", tt.arg)
			continue
		}
		if first, _, _ := strings.Cut(err.Error(), "\n"); !strings.Contains(first, tt.want) {
			t.Errorf("Resolve(%q) = %q, want %q in the first line", tt.arg, err, tt.want)
		}
	}
}

// setCacheHome points XDG_CACHE_HOME at a fresh directory, keeping the go
// command's build cache (which defaults to $XDG_CACHE_HOME/go-build) where
// it was, so the tests do not recompile the standard library.
func setCacheHome(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(out)))
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	return dir
}

func TestImageName(t *testing.T) {
	a := imageName("/src/my app", nil)
	if !strings.HasPrefix(a, "my_app-") || a == imageName("/other/my app", nil) || a == imageName("/src/my app", []string{"-race"}) {
		t.Errorf("imageName not readable or not unique: %q", a)
	}
}
