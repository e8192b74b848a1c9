package imagebuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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
//
// Build records it in the image with -ldflags -X (abi.ManifestSymbol), so
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

// directives returns the manifest entries ("net:service") of one file.
func directives(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), directivePrefix)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || (f[0] != string(abi.NetDevice) && f[0] != string(abi.BlockDevice)) || !abi.ValidName(f[1]) {
			return nil, fmt.Errorf("%s:%d: want //morgana:net NAME or //morgana:block NAME", path, n)
		}
		out = append(out, f[0]+":"+f[1])
	}
	return out, sc.Err()
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
