// Command morgana builds and runs Go unikernels.
//
//	morgana run [flags] IMAGE [ARGS...]   boot IMAGE in a KVM virtual machine
//	morgana build [-o IMAGE] [PACKAGE]    build a static guest image
//
// Errors of morgana itself exit with status 125, as docker run does; a
// guest's own exit status is passed through.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/morgana-os/morgana/spt"
)

// exitMonitor is the status of a failure of the monitor itself.
const exitMonitor = 125

const usage = `usage: morgana <command> [arguments]

commands:
  run     boot an image (or a Go package) in a virtual machine
  build   build a static guest image from a Go package

Run 'morgana <command> -h' for the command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(exitMonitor)
	}
	var status int
	switch os.Args[1] {
	case "run":
		status = runCmd(os.Args[2:])
	case "build":
		status = buildCmd(os.Args[2:])
	case spt.ExecCommand: // morgana's own child in spt mode: never returns on success
		mem, err := strconv.ParseUint(argAt(2), 10, 64)
		if err != nil || argAt(3) != "--" || len(os.Args) < 5 {
			status = fail(fmt.Errorf("%s: bad arguments", spt.ExecCommand))
			break
		}
		status = fail(spt.Exec(mem, os.Args[4:], os.Environ()))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "morgana: unknown command %q\n%s", os.Args[1], usage)
		status = exitMonitor
	}
	os.Exit(status)
}

// argAt returns os.Args[i], or "" past the end.
func argAt(i int) string {
	if i < len(os.Args) {
		return os.Args[i]
	}
	return ""
}

// fail prints one line for an error of the monitor and returns 125.
func fail(err error) int {
	fmt.Fprintf(os.Stderr, "morgana: %v\n", err)
	return exitMonitor
}
