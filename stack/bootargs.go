package stack

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/morgana-os/morgana/bootflags"
)

// The stack reads its boot arguments (--ipv4, --ipv4-gateway, --ipv6,
// --ipv6-gateway, --dns-servers, MirageOS's names, and -l for its log
// level) from os.Args itself, whatever flag parsing the application does
// or does not do. So that an application calling flag.Parse does not
// reject them, they are also defined on flag.CommandLine, unless the
// application's packages defined them first. (A main package that defines
// a flag of the same name panics, as flag does for any duplicate: it
// should read them with flag.Lookup instead.)
func init() {
	scratch := flag.NewFlagSet("", flag.ContinueOnError)
	bootflags.RegisterNetwork(scratch)
	scratch.VisitAll(func(f *flag.Flag) {
		if flag.CommandLine.Lookup(f.Name) == nil {
			flag.CommandLine.Var(f.Value, f.Name, f.Usage)
		}
	})
}

// parseBootArgs finds the network flags in args, in the forms --x=v, -x=v,
// --x v and -x v, skipping everything else.
func parseBootArgs(args []string) (*bootflags.Network, error) {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := bootflags.RegisterNetwork(fs)
	if err := scanArgs(args, fs); err != nil {
		return nil, err
	}
	if err := n.Check(); err != nil {
		return nil, err
	}
	return n, nil
}

// bootLogger is the logger of Default's stack: quiet, unless -l gives a
// level for the source "net" (or for every source), e.g. -l net:debug.
// Since -l might mean something else to the application, a value that is
// not a log level is ignored.
func bootLogger(args []string) *slog.Logger {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	levels := bootflags.RegisterLogs(fs)
	given := false
	for i := 0; i < len(args); i++ {
		name, value, ok := flagName(args[i])
		if !ok || name != "l" {
			continue
		}
		if value == "" && i+1 < len(args) {
			i++
			value = args[i]
		}
		if fs.Set("l", value) == nil {
			given = true
		}
	}
	if !given {
		return slog.New(slog.DiscardHandler)
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: levels.Level("net")})
	return slog.New(h).With("source", "net")
}

// scanArgs sets the flags of fs that appear in args.
func scanArgs(args []string, fs *flag.FlagSet) error {
	for i := 0; i < len(args); i++ {
		name, value, ok := flagName(args[i])
		if !ok || fs.Lookup(name) == nil {
			continue
		}
		if !strings.Contains(args[i], "=") {
			if i+1 == len(args) {
				return fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("--%s=%s: %w", name, value, err)
		}
	}
	return nil
}

// flagName splits "-x", "--x" and "--x=v" into the name and the value.
func flagName(arg string) (name, value string, ok bool) {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return "", "", false
	}
	name = strings.TrimPrefix(arg[1:], "-")
	name, value, _ = strings.Cut(name, "=")
	return name, value, name != ""
}
