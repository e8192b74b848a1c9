package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/morgana-os/morgana/elfimage"
)

// Options adjust a build.
type Options struct {
	Flags  []string  // extra go build flags, e.g. "-tags=netgo" or "-ldflags=-s -w"
	Dir    string    // directory to run the go command in, and that relative paths are relative to; "" means the current one
	Stdout io.Writer // receives the go command's standard output; nil discards it
	Stderr io.Writer // receives the go command's standard error as it runs; nil: it only ends up in errors
}

// guestEnv pins the target every guest image is built for.
var guestEnv = []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"}

// Build compiles the Go package pkg (a path such as ./examples/hello or an
// import path) into a static guest image at out, with GOOS=linux
// GOARCH=amd64 CGO_ENABLED=0 and -trimpath, then checks the result with
// elfimage. The image is built beside out and renamed into place only once
// it has passed, so out never holds a half-written or unusable file.
func Build(ctx context.Context, pkg, out string, opt Options) error {
	return build(ctx, pkg, pkg, out, opt)
}

// build is Build with the package named label in messages.
func build(ctx context.Context, pkg, label, out string, opt Options) error {
	out = inDir(opt.Dir, out)
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return fmt.Errorf("build %s: output %s is a directory; name the image file", label, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", label, err)
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".morgana-build-*")
	if err != nil {
		return fmt.Errorf("build %s: %w", label, err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, filepath.Base(out))

	flags := opt.Flags
	if m, declared, err := readManifest(ctx, opt, pkg); err != nil {
		return fmt.Errorf("build %s: %w", label, err)
	} else if declared {
		flags = withManifest(flags, m)
	}
	args := append([]string{"build", "-trimpath", "-o", tmp}, flags...)
	if err := runGo(ctx, opt, pkg, label, append(args, pkg)...); err != nil {
		return err
	}
	if err := check(tmp, out); err != nil {
		return fmt.Errorf("build %s: %w", label, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("build %s: %w", label, err)
	}
	return nil
}

// ErrNotMain is the error of a package that is not a program: go build
// -o makes an archive of it, which is no image.
var ErrNotMain = errors.New("not a main package: go build made a library archive, not a program")

// check validates the freshly built image at tmp, naming it out in errors.
func check(tmp, out string) error {
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	magic := make([]byte, 8)
	if _, err := f.ReadAt(magic, 0); err == nil && string(magic) == "!<arch>\n" {
		return ErrNotMain
	}
	_, err = elfimage.Parse(out, f, fi.Size())
	return err
}

// runGo runs the go command for pkg in opt.Dir with the guest environment.
// A failure becomes a *BuildError carrying the end of its standard error.
func runGo(ctx context.Context, opt Options, pkg, label string, args ...string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build %s: the go command is needed to build packages: %w", label, err)
	}
	var tail tailBuffer
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = opt.Dir
	cmd.Env = append(os.Environ(), guestEnv...)
	cmd.Stdout = opt.Stdout
	cmd.Stderr = &tail
	if opt.Stderr != nil {
		cmd.Stderr = io.MultiWriter(opt.Stderr, &tail)
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build %s: %w", label, ctx.Err())
		}
		return &BuildError{Pkg: label, Err: err, Reason: cgoReason(ctx, opt, pkg), Stderr: tail.lines(maxErrLines)}
	}
	return nil
}

// maxErrLines is how much of the go command's output an error keeps.
const maxErrLines = 10

// BuildError is a failed go build. Its message starts with a one-line
// summary, followed by the last lines the go command wrote, indented.
type BuildError struct {
	Pkg    string   // the package as the caller named it
	Err    error    // how the go command failed, e.g. an *exec.ExitError
	Reason string   // a diagnosis, when one is known (such as cgo use)
	Stderr []string // the last lines of the go command's standard error
}

func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "build %s: go build failed (%v)", e.Pkg, e.Err)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	for _, l := range e.Stderr {
		b.WriteString("\n\t" + l)
	}
	return b.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// inDir resolves a relative path against dir, as the go command run in
// dir would.
func inDir(dir, path string) string {
	if dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
