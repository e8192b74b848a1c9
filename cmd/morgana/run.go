package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/morgana-os/morgana/elfimage"
	"github.com/morgana-os/morgana/hostproc"
	"github.com/morgana-os/morgana/hvt"
	"github.com/morgana-os/morgana/spt"
)

func runCmd(args []string) int {
	fs := flag.NewFlagSet("morgana run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	mem := sizeFlag(256 << 20)
	var env listFlag
	fs.Var(&mem, "mem", "guest memory, a hard limit (e.g. 256M, 1G)")
	cpus := fs.Int("cpus", 1, "vCPUs the guest may use at once")
	fs.Var(&env, "e", "set an environment variable KEY=VALUE in the guest (repeatable)")
	verbose := fs.Bool("verbose", false, "log what the monitor does on stderr")
	trace := fs.Bool("trace", false, "print every system call of the guest on stderr, as strace does")
	mode := fs.String("mode", "hvt", "isolation: hvt (a KVM virtual machine), spt (a host process under a seccomp filter) or unix (a plain host process, for development)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: morgana run [flags] IMAGE [ARGS...]")
			fs.PrintDefaults()
			return 0
		}
		return fail(err)
	}
	if fs.NArg() < 1 {
		return fail(fmt.Errorf("run: no image given (usage: morgana run [flags] IMAGE [ARGS...])"))
	}
	if *mode != "hvt" && *mode != "unix" && *mode != "spt" {
		return fail(fmt.Errorf("--mode %s: want hvt, spt or unix", *mode))
	}
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			return fail(fmt.Errorf("-e %q: want KEY=VALUE", kv))
		}
	}
	ctx := context.Background()
	image, err := resolveImage(ctx, fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	guestArgv := append([]string{fs.Arg(0)}, fs.Args()[1:]...)
	if *mode != "hvt" {
		if err := checkImage(image, uint64(mem), *cpus); err != nil {
			return fail(err)
		}
		pc := hostproc.Config{Image: image, Argv: guestArgv, Env: env, CPUs: *cpus}
		run := hostproc.Run
		if *mode == "spt" {
			self, err := os.Executable()
			if err != nil {
				return fail(fmt.Errorf("spt: find morgana itself: %w", err))
			}
			run = func(c hostproc.Config) (int, error) { return spt.Run(self, c, uint64(mem)) }
		}
		status, err := run(pc)
		if err != nil {
			return fail(err)
		}
		return status
	}
	logLevel := slog.LevelWarn
	if *verbose {
		logLevel = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	cfg := hvt.Config{
		Image:     image,
		Argv:      guestArgv,
		Env:       env,
		Mem:       uint64(mem),
		CPUs:      *cpus,
		KVMDevice: os.Getenv("MORGANA_KVM_DEVICE"),
		Log:       log,
	}
	if *trace {
		cfg.Trace = os.Stderr
	}
	// Listen before the guest starts, so no early signal kills the monitor.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	vm, err := hvt.New(cfg)
	if err != nil {
		return fail(err)
	}
	defer vm.Close()
	go func() {
		for s := range sigs {
			vm.Signal(s.(syscall.Signal))
		}
	}()
	return vm.Wait(ctx)
}

// resolveImage turns IMAGE into an ELF path.
func resolveImage(ctx context.Context, arg string) (string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", arg, errNotExist(err))
	}
	if st.IsDir() {
		return buildPackage(ctx, arg)
	}
	return arg, nil
}

func errNotExist(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("no such file or directory")
	}
	return err
}

// checkImage applies hvt's checks in the other modes too, so that a command
// line that runs in unix mode is one that boots in a VM.
func checkImage(path string, mem uint64, cpus int) error {
	if cpus < 1 || cpus > 64 {
		return fmt.Errorf("--cpus %d: must be between 1 and 64", cpus)
	}
	im, err := elfimage.Open(path)
	if err != nil {
		return err
	}
	return hvt.CheckMem(im, mem)
}
