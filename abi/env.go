package abi

// What `morgana run` tells every image of itself, in every mode, besides
// DevicesEnv: facts an image cannot find out on its own in a VM, where it
// has no file system to stat its executable in and its clock starts with
// the runtime, not with the monitor. Images may ignore them; -e KEY=VALUE
// overrides them. (In hvt and spt morgana run also sets Go's own
// GOMEMLIMIT, below --mem: see docs/devices.md.)
const (
	// ImageSizeEnv is the size of the image file, in bytes (decimal).
	ImageSizeEnv = "MORGANA_IMAGE_SIZE"
	// BootNSEnv is when morgana run started to boot the image, in
	// nanoseconds since the Unix epoch (decimal): a boot time measured
	// from it counts the monitor's set-up and the Go runtime's start.
	BootNSEnv = "MORGANA_BOOT_NS"
	// ModeEnv is the mode the image runs in: hvt, spt or unix.
	ModeEnv = "MORGANA_MODE"
)
