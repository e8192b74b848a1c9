package imagebuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// cgoReason explains a failed build whose packages use cgo. With
// CGO_ENABLED=0 the go command just drops their cgo files and reports
// "build constraints exclude all Go files" or undefined names, which does
// not say why; listing the packages with cgo enabled does. It returns ""
// when no package outside the standard library has cgo files (the standard
// library's cgo files all have pure-Go alternatives).
func cgoReason(ctx context.Context, opt Options, pkg string) string {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	args := append([]string{"list", "-e", "-deps", "-f", "{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}"}, opt.Flags...)
	cmd := exec.CommandContext(ctx, goCmd, append(args, pkg)...)
	cmd.Dir = opt.Dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	if cmd.Run() != nil {
		return ""
	}
	pkgs := strings.Fields(out.String())
	if len(pkgs) == 0 {
		return ""
	}
	if len(pkgs) > 3 {
		pkgs = append(pkgs[:3], "...")
	}
	return fmt.Sprintf(`%s uses cgo (import "C"), but guests are built with CGO_ENABLED=0: morgana runs pure-Go programs only`, strings.Join(pkgs, ", "))
}
