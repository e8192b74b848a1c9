package imagebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Resolve turns a `morgana run` argument into the path of a guest image.
//
// An existing regular file is used as is. A directory holding a Go package
// (./x, ../x, /abs/x, or a bare name like x that is a directory here) is
// built into the image cache and that path returned, with built true. Any
// other argument is tried as an import path, looked up with go list.
// Relative arguments are relative to opt.Dir.
//
// Packages are rebuilt every time: the go command's own cache makes an
// unchanged package quick to rebuild, and that is simpler and more
// reliable than deciding here whether the image is stale.
func Resolve(ctx context.Context, arg string, opt Options) (path string, built bool, err error) {
	p := inDir(opt.Dir, arg)
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.Mode().IsRegular():
		return p, false, nil
	case err == nil && fi.IsDir():
		return buildDir(ctx, arg, p, opt)
	case err == nil:
		return "", false, fmt.Errorf("%s: neither a guest image file nor a package directory (%v)", arg, fi.Mode().Type())
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("resolve %s: %w", arg, err)
	case looksLikePath(arg):
		return "", false, fmt.Errorf("%s: no such guest image file or package directory", arg)
	}
	dir, err := packageDir(ctx, arg, opt)
	if err != nil {
		return "", false, err
	}
	return buildDir(ctx, arg, dir, opt)
}

// looksLikePath reports whether arg names a file or directory rather than
// an import path: import paths are never absolute and never start with a
// dot element.
func looksLikePath(arg string) bool {
	return filepath.IsAbs(arg) || arg == "." || arg == ".." ||
		strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../") ||
		strings.HasSuffix(arg, "/")
}

// packageDir asks the go command where the package with import path arg is.
func packageDir(ctx context.Context, arg string, opt Options) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%s: no such file, and the go command to look it up as a package is missing: %w", arg, err)
	}
	cmd := exec.CommandContext(ctx, goCmd, "list", "-f", "{{.Dir}}", arg)
	cmd.Dir = opt.Dir
	cmd.Env = append(os.Environ(), guestEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return "", fmt.Errorf("%s: not a file, directory or Go package: %s", arg, msg)
	}
	dir := strings.TrimSpace(stdout.String())
	if dir == "" || strings.Contains(dir, "\n") {
		return "", fmt.Errorf("%s: not a single Go package", arg)
	}
	return dir, nil
}

// buildDir builds the package in dir into the image cache.
func buildDir(ctx context.Context, arg, dir string, opt Options) (string, bool, error) {
	dir, err := filepath.Abs(dir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", arg, err)
	}
	if ok, err := hasGoFiles(dir); err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", arg, err)
	} else if !ok {
		return "", false, fmt.Errorf("%s: directory holds no Go package (no .go files)", arg)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", arg, err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", false, fmt.Errorf("resolve %s: image cache: %w", arg, err)
	}
	out := filepath.Join(cache, imageName(dir, opt.Flags))
	bopt := opt
	bopt.Dir = dir // the go command finds the package's module from here
	if err := build(ctx, ".", arg, out, bopt); err != nil {
		return "", false, err
	}
	return out, true, nil
}

// CacheDir is where Resolve keeps the images it builds:
// $XDG_CACHE_HOME/morgana/images, or ~/.cache/morgana/images.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find cache directory: %w", err)
	}
	return filepath.Join(base, "morgana", "images"), nil
}

// imageName names a package's cached image: readable (the directory's
// name) and unique (a hash of the absolute directory and the build flags,
// which change the image too).
func imageName(dir string, flags []string) string {
	h := sha256.New()
	h.Write([]byte(dir))
	for _, f := range flags {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	base := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, filepath.Base(dir))
	return base + "-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// hasGoFiles reports whether dir holds a non-test .go file.
func hasGoFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true, nil
		}
	}
	return false, nil
}
