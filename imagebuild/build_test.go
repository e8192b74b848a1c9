package imagebuild

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/elfimage"
)

// testModule writes a module example.com/m holding the given files
// (path relative to the module root -> contents) and returns its root.
func testModule(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOFLAGS", "-buildvcs=false")
	root := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.22\n"
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const helloSrc = "package main\n\nfunc main() { println(\"hello\") }\n"

const cgoSrc = "package main\n\n// static int one(void) { return 1; }\nimport \"C\"\n\nfunc main() { println(C.one()) }\n"

func TestBuild(t *testing.T) {
	mod := testModule(t, map[string]string{"hello/main.go": helloSrc})
	out := filepath.Join(t.TempDir(), "hello")
	var stderr bytes.Buffer
	if err := Build(context.Background(), "./hello", out, Options{Dir: mod, Stderr: &stderr, Flags: []string{"-x"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "WORK=") {
		t.Errorf("go build -x output not passed on to Stderr: %q", stderr.String())
	}
	im, err := elfimage.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := im.Symbolize(im.Entry); !ok {
		t.Error("built image has no symbol at its entry point")
	}
	bi, err := buildinfo.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != v {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".morgana-build-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestBuildImportPath(t *testing.T) {
	mod := testModule(t, map[string]string{"cmd/hi/main.go": helloSrc})
	out := filepath.Join(t.TempDir(), "hi")
	if err := Build(context.Background(), "example.com/m/cmd/hi", out, Options{Dir: mod}); err != nil {
		t.Fatal(err)
	}
	if _, err := elfimage.Open(out); err != nil {
		t.Fatal(err)
	}
}

func TestBuildErrors(t *testing.T) {
	mod := testModule(t, map[string]string{
		"cgo/main.go":    cgoSrc,
		"broken/main.go": "package main\n\nfunc main() { undefinedThing() }\n",
		"lib/lib.go":     "package lib\n",
		"hello/main.go":  helloSrc,
	})
	tests := []struct {
		name, pkg string
		flags     []string
		summary   []string // all in the first line
		detail    string   // in a later line
		kind      error    // elfimage kind, for images that build but fail validation
	}{
		{name: "cgo", pkg: "./cgo", summary: []string{"build ./cgo: go build failed", "example.com/m/cgo uses cgo", "CGO_ENABLED=0"}, detail: "build constraints exclude all Go files"},
		{name: "compile error", pkg: "./broken", summary: []string{"build ./broken: go build failed (exit status 1)"}, detail: "undefined: undefinedThing"},
		{name: "missing package", pkg: "./nope", summary: []string{"build ./nope: go build failed"}, detail: "nope"},
		{name: "library", pkg: "./lib", summary: []string{"build ./lib:", "not a main package"}, kind: ErrNotMain},
		{name: "pie", pkg: "./hello", flags: []string{"-buildmode=pie"}, summary: []string{"build ./hello:", "-buildmode=pie"}, kind: elfimage.ErrNotExec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "image")
			err := Build(context.Background(), tt.pkg, out, Options{Dir: mod, Flags: tt.flags})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			t.Logf("error:\n%v", err)
			msg := err.Error()
			first, rest, _ := strings.Cut(msg, "\n")
			for _, s := range tt.summary {
				if !strings.Contains(first, s) {
					t.Errorf("first line %q does not contain %q", first, s)
				}
			}
			if !strings.Contains(rest, tt.detail) {
				t.Errorf("later lines %q do not contain %q", rest, tt.detail)
			}
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Errorf("error is not %v", tt.kind)
				}
			} else {
				var be *BuildError
				if !errors.As(err, &be) || be.Pkg != tt.pkg || len(be.Stderr) == 0 || len(be.Stderr) > maxErrLines {
					t.Errorf("error is not a *BuildError for %s with the go command's output: %#v", tt.pkg, err)
				}
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("failed build left files in the output directory: %v", entries)
			}
		})
	}
}

func TestBuildOutputIsDir(t *testing.T) {
	mod := testModule(t, map[string]string{"hello/main.go": helloSrc})
	err := Build(context.Background(), "./hello", t.TempDir(), Options{Dir: mod})
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Build to a directory = %v", err)
	}
}

func TestBuildCanceled(t *testing.T) {
	mod := testModule(t, map[string]string{"hello/main.go": helloSrc})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Build(ctx, "./hello", filepath.Join(t.TempDir(), "x"), Options{Dir: mod})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Build with canceled context = %v", err)
	}
}

func TestTailBuffer(t *testing.T) {
	var tb tailBuffer
	for i := 0; i < 10000; i++ {
		tb.Write([]byte("line of output\n"))
	}
	tb.Write([]byte("last\n"))
	if len(tb.buf) > tailMax {
		t.Errorf("tail grew to %d bytes", len(tb.buf))
	}
	lines := tb.lines(3)
	if len(lines) != 3 || lines[2] != "last" {
		t.Errorf("lines = %q", lines)
	}
}
