package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/elfimage"
	"github.com/morgana-os/morgana/hostdev"
	"github.com/morgana-os/morgana/hostproc"
	"github.com/morgana-os/morgana/hvt"
	"github.com/morgana-os/morgana/kvm"
	"github.com/morgana-os/morgana/spt"
)

// runOptions are the parsed flags of morgana run.
type runOptions struct {
	mem      sizeFlag
	cpus     int
	env      listFlag
	verbose  bool
	trace    bool
	mode     string
	nets     listFlag
	blocks   listFlag
	publish  listFlag
	outbound bool

	// What the guest is told of itself (abi.ImageSizeEnv and the rest).
	imageSize int64
	bootStart time.Time
}

func runCmd(args []string) int {
	fs := flag.NewFlagSet("morgana run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := runOptions{mem: sizeFlag(256 << 20)}
	fs.Var(&o.mem, "mem", "guest memory, a hard limit (e.g. 256M, 1G)")
	fs.IntVar(&o.cpus, "cpus", 1, "vCPUs the guest may use at once")
	fs.Var(&o.env, "e", "set an environment variable KEY=VALUE in the guest (repeatable)")
	fs.BoolVar(&o.verbose, "verbose", false, "log what the monitor does on stderr")
	fs.BoolVar(&o.trace, "trace", false, "print every system call of the guest on stderr, as strace does")
	fs.StringVar(&o.mode, "mode", "hvt", "isolation: hvt (a KVM virtual machine), spt (a host process under a seccomp filter) or unix (a plain host process, for development)")
	fs.Var(&o.nets, "net", "attach the TAP interface TAPDEV as network device NAME: NAME=TAPDEV (repeatable)")
	fs.Var(&o.blocks, "block", "attach the disk image FILE as block device NAME: NAME=FILE or NAME=FILE:ro (repeatable)")
	fs.Var(&o.publish, "p", "publish the guest's port GUEST on the host's port HOST, through user-mode networking (no root, no TAP): [HOSTIP:]HOST:GUEST[/tcp|/udp] (repeatable)")
	fs.Var(&o.publish, "publish", "the same as -p")
	fs.BoolVar(&o.outbound, "outbound", false, "with -p: let the guest's connections out through the host's sockets (NAT), 10.0.2.2 being the host's loopback")
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
	if o.mode != "hvt" && o.mode != "unix" && o.mode != "spt" {
		return fail(fmt.Errorf("--mode %s: want hvt, spt or unix", o.mode))
	}
	for _, kv := range o.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fail(fmt.Errorf("-e %q: want KEY=VALUE", kv))
		}
	}
	modeSet := false
	fs.Visit(func(f *flag.Flag) { modeSet = modeSet || f.Name == "mode" })
	if !modeSet {
		o.mode = defaultMode()
	}
	specs, err := deviceSpecs(o)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	image, err := resolveImage(ctx, fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	// The boot starts here, once a package is built: checking the image,
	// opening the devices, making the VM or the sandbox.
	o.bootStart = time.Now()
	im, err := elfimage.Open(image)
	if err != nil {
		return fail(err)
	}
	if err := checkImage(im, uint64(o.mem), o.cpus); err != nil {
		return fail(err)
	}
	if st, err := os.Stat(image); err == nil {
		o.imageSize = st.Size()
	}
	manifest, declared, err := readManifest(im)
	if err != nil {
		return fail(err)
	}
	forwards, specs, err := publishSpecs(o, specs, manifest)
	if err != nil {
		return fail(err)
	}
	if err := hostdev.CheckManifest(specs, manifest, declared, o.mode == "unix"); err != nil {
		return fail(err)
	}
	devs, err := hostdev.Open(specs)
	if err != nil {
		return fail(err)
	}
	defer hostdev.CloseAll(devs)
	if len(forwards) > 0 {
		un, err := startUserNet(o, devs, forwards)
		if err != nil {
			return fail(err)
		}
		defer un.Close()
	}
	guestArgv := append([]string{fs.Arg(0)}, fs.Args()[1:]...)
	if o.mode != "hvt" {
		return runProcess(o, im, guestArgv, devs)
	}
	return runVM(ctx, o, im, guestArgv, devs)
}

// defaultMode is hvt where KVM can be used, and otherwise spt, with a
// line that says so: the same image still runs, sandboxed, on a machine
// without virtualization.
func defaultMode() string {
	dev := os.Getenv("MORGANA_KVM_DEVICE")
	if dev == "" {
		dev = "/dev/kvm"
	}
	sys, err := kvm.Open(dev)
	if err != nil {
		fmt.Fprintf(os.Stderr, "morgana: %v; running in spt mode (a sandboxed process) instead\n", err)
		return "spt"
	}
	sys.Close()
	return "hvt"
}

// deviceSpecs parses the device flags.
func deviceSpecs(o runOptions) ([]hostdev.Spec, error) {
	var specs []hostdev.Spec
	for _, v := range o.nets {
		s, err := hostdev.ParseNet(v)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	for _, v := range o.blocks {
		s, err := hostdev.ParseBlock(v)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, hostdev.CheckNames(specs)
}

// readManifest reads the devices the image declares; declared is false
// for an image without a manifest.
func readManifest(im *elfimage.Image) (m abi.Manifest, declared bool, err error) {
	text, declared := im.StringVar(abi.ManifestSymbol)
	if m, err = abi.ParseManifest(text); err != nil {
		return nil, false, fmt.Errorf("%s: bad device manifest: %w", im.Path, err)
	}
	return m, declared, nil
}

// guestEnv is the guest's environment: -e, then what morgana run tells
// every image of itself (unless -e set it), then what the device libraries
// read.
func guestEnv(o runOptions, devs []abi.Device) []string {
	env := append([]string(nil), o.env...)
	set := func(k, v string) {
		for _, kv := range o.env {
			if strings.HasPrefix(kv, k+"=") {
				return
			}
		}
		env = append(env, k+"="+v)
	}
	set(abi.ModeEnv, o.mode)
	if o.imageSize > 0 {
		set(abi.ImageSizeEnv, strconv.FormatInt(o.imageSize, 10))
	}
	if !o.bootStart.IsZero() {
		set(abi.BootNSEnv, strconv.FormatInt(o.bootStart.UnixNano(), 10))
	}
	if o.mode != "unix" {
		if limit := memLimit(uint64(o.mem), uint64(max(o.imageSize, 0))); limit > 0 {
			set("GOMEMLIMIT", strconv.FormatUint(limit, 10))
		}
	}
	if len(devs) > 0 {
		env = append(env, abi.DevicesEnv+"="+abi.FormatDevices(devs))
	}
	return env
}

// memLimit is the GOMEMLIMIT of an image of imageSize bytes in hvt and spt,
// where --mem (mem) is a hard limit that Go's garbage collector does not
// know of: with a soft limit below it, the collector works harder as the
// heap nears it, instead of letting the heap grow to twice what is live
// and the guest be killed with half of it garbage. What the limit does not
// count keeps an eighth of mem and the image's size: the image's code and
// data, page tables, the devices' rings. Zero means no limit fits.
func memLimit(mem, imageSize uint64) uint64 {
	reserve := mem/8 + imageSize
	if reserve >= mem {
		return 0
	}
	return mem - reserve
}

// runProcess runs the image as a host process: spt or unix mode. The
// devices are inherited descriptors.
func runProcess(o runOptions, im *elfimage.Image, argv []string, devs []*hostdev.Device) int {
	image := im.Path
	first := 3
	if o.mode == "spt" {
		first = spt.FirstDeviceFD
	}
	infos := hostdev.Infos(devs, first)
	pc := hostproc.Config{Image: image, Argv: argv, Env: guestEnv(o, infos), CPUs: o.cpus, ExtraFiles: hostdev.Files(devs)}
	run := hostproc.Run
	if o.mode == "spt" {
		self, err := os.Executable()
		if err != nil {
			return fail(fmt.Errorf("spt: find morgana itself: %w", err))
		}
		// RLIMIT_DATA counts the image's zero-filled tails (BSS) whole,
		// where a VM gives them memory as they are touched.
		bss := im.MemSize() - im.FileSize()
		run = func(c hostproc.Config) (int, error) { return spt.Run(self, c, uint64(o.mem)+bss) }
	}
	status, err := run(pc)
	if err != nil {
		return fail(err)
	}
	return status
}

// runVM boots the image in a KVM virtual machine: hvt mode.
func runVM(ctx context.Context, o runOptions, im *elfimage.Image, argv []string, devs []*hostdev.Device) int {
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	infos := hostdev.Infos(devs, 3)
	for i := range infos {
		// Frames through shared rings.
		infos[i].Ring = infos[i].Kind == abi.NetDevice
	}
	cfg := hvt.Config{
		Image:     im.Path,
		Loaded:    im,
		Argv:      argv,
		Env:       guestEnv(o, infos),
		Mem:       uint64(o.mem),
		CPUs:      o.cpus,
		KVMDevice: os.Getenv("MORGANA_KVM_DEVICE"),
		Stdin:     os.Stdin,
		Log:       log,
	}
	for i, d := range devs {
		cfg.Devices = append(cfg.Devices, hvt.Device{File: d.File, Info: infos[i]})
	}
	if o.trace {
		cfg.Trace = os.Stderr
	}
	// Listen before the guest starts, so no early signal kills the monitor.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, hostproc.Forwarded...)
	// A write to a closed stdout or stderr must fail with EPIPE, for the
	// guest to see, rather than kill the monitor with SIGPIPE as it kills a
	// Go program that has not asked for that signal (the guest is sent its
	// own SIGPIPE by the console, see hvt/files.go).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
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

// checkImage applies hvt's checks in every mode, before any device is
// opened, so that a command line that runs in unix mode is one that boots
// in a VM, and the error names --mem as it was given.
func checkImage(im *elfimage.Image, mem uint64, cpus int) error {
	if cpus < 1 || cpus > 64 {
		return fmt.Errorf("--cpus %d: must be between 1 and 64", cpus)
	}
	return hvt.CheckMem(im, mem)
}
