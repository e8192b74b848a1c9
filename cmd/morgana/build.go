package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/morgana-os/morgana/imagebuild"
)

func buildCmd(argv []string) int {
	fs := flag.NewFlagSet("morgana build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "output image (default: the package directory's name)")
	if err := fs.Parse(argv); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: morgana build [-o IMAGE] [PACKAGE]")
			fs.PrintDefaults()
			return 0
		}
		return fail(err)
	}
	pkg := "."
	if fs.NArg() > 1 {
		return fail(fmt.Errorf("build: one package at a time"))
	}
	if fs.NArg() == 1 {
		pkg = fs.Arg(0)
	}
	if *out == "" {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return fail(err)
		}
		*out = filepath.Base(abs)
	}
	opt := imagebuild.Options{Stderr: os.Stderr}
	if st, err := os.Stat(pkg); err == nil && st.IsDir() {
		// A directory: build it from inside, so that its module is found
		// wherever morgana is run from.
		abs, err := filepath.Abs(*out)
		if err != nil {
			return fail(err)
		}
		opt.Dir, pkg, *out = pkg, ".", abs
	}
	if err := imagebuild.Build(context.Background(), pkg, *out, opt); err != nil {
		return fail(err)
	}
	return 0
}

// buildPackage builds the package in dir into the image cache.
func buildPackage(ctx context.Context, dir string) (string, error) {
	path, _, err := imagebuild.Resolve(ctx, dir, imagebuild.Options{Stderr: os.Stderr})
	return path, err
}
