package imagebuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/morgana-os/morgana/abi"
)

// The device manifest of an image is declared in its main package with
// directives, one device each, in the manner of //go:embed:
//
//	//morgana:net service
//	//morgana:block storage
//	//morgana:block files optional
//
// A device marked optional is one the image can use but runs without:
// morgana run accepts a command line that attaches it or not. Build
// records it in the image with -ldflags -X (abi.ManifestSymbol), so
// the monitor can check the devices of a command line against it before
// booting, as Solo5's tenders check theirs.
const directivePrefix = "//morgana:"

// readManifest collects the directives of the Go files of package pkg.
// declared is false when the package has none.
func readManifest(ctx context.Context, opt Options, pkg string) (m abi.Manifest, declared bool, err error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, false, err
	}
	cmd := exec.CommandContext(ctx, goCmd, "list", "-f", `{{.Dir}}{{range .GoFiles}}{{"\n"}}{{.}}{{end}}`, pkg)
	cmd.Dir = opt.Dir
	cmd.Env = append(os.Environ(), guestEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, false, nil // go build reports the package's problem better
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var entries []string
	for _, name := range lines[1:] {
		path := filepath.Join(lines[0], name)
		es, err := directives(path)
		if err != nil {
			return nil, false, err
		}
		entries = append(entries, es...)
	}
	if len(entries) == 0 {
		return nil, false, nil
	}
	m, err = abi.ParseManifest(strings.Join(entries, " "))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", pkg, err)
	}
	return m, true, nil
}

// directives returns the manifest entries ("net:service", "block:files?")
// of one file.
func directives(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseDirectives(f, path)
}

// parseDirectives returns the manifest entries of the directives in r,
// naming file in its errors.
func parseDirectives(r io.Reader, file string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), directivePrefix)
		if !ok {
			continue
		}
		e, err := directive(rest)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s%s: %v (want //morgana:net NAME, //morgana:block NAME, or either with optional after NAME)",
				file, n, directivePrefix, rest, err)
		}
		out = append(out, e.String())
	}
	return out, sc.Err()
}

// directive parses what follows //morgana: in a directive.
func directive(text string) (abi.ManifestEntry, error) {
	f := strings.Fields(text)
	switch {
	case len(f) == 0 || (f[0] != string(abi.NetDevice) && f[0] != string(abi.BlockDevice)):
		return abi.ManifestEntry{}, fmt.Errorf("not a kind of device")
	case len(f) == 1:
		return abi.ManifestEntry{}, fmt.Errorf("no device name")
	case !abi.ValidName(f[1]):
		return abi.ManifestEntry{}, fmt.Errorf("bad device name %q (1-31 letters, digits, _)", f[1])
	case len(f) > 3 || len(f) == 3 && f[2] != "optional":
		return abi.ManifestEntry{}, fmt.Errorf("unexpected %q after the name", strings.Join(f[2:], " "))
	}
	return abi.ManifestEntry{Kind: abi.DeviceKind(f[0]), Name: f[1], Optional: len(f) == 3}, nil
}

// withManifest adds the -X flag that records m to the build flags,
// merging it into an -ldflags the caller gave.
func withManifest(flags []string, m abi.Manifest) []string {
	x := fmt.Sprintf(`-X "%s=%s"`, abi.ManifestSymbol, m)
	out := append([]string(nil), flags...)
	for i, f := range out {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			out[i] = "-ldflags=" + v + " " + x
			return out
		}
	}
	return append(out, "-ldflags="+x)
}
