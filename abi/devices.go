package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// The device contract: how the monitor tells an image which devices it
// attached. In every mode a device is a guest descriptor; the monitor
// lists them in one environment variable, so the same image finds its
// devices whether they are served by the hvt monitor or are host
// descriptors (spt, unix).
const (
	// DevicesEnv holds the attached devices, in the Device format.
	DevicesEnv = "MORGANA_DEVICES"
	// ManifestSymbol is the string variable of an image that declares the
	// devices it uses, set by `morgana build` (go build -ldflags -X). The
	// monitor reads it from the ELF symbol table before booting.
	ManifestSymbol = "github.com/morgana-os/morgana/device.manifest"
)

// DeviceKind is the kind of a device.
type DeviceKind string

const (
	NetDevice   DeviceKind = "net"
	BlockDevice DeviceKind = "block"
)

// Device is one attached device as the image sees it. Encoded, devices are
// separated by ';' and each is "KIND=NAME" followed by ",key=value"
// fields:
//
//	net=service,fd=3,mac=02:00:00:00:00:01,mtu=1500;block=storage,fd=4,size=1048576,sector=512,ro=1
type Device struct {
	Kind DeviceKind
	Name string
	FD   int

	// Network devices.
	MAC  string // aa:bb:cc:dd:ee:ff
	MTU  int
	Ring bool // hvt: mmap of the descriptor gives the NetRing
	// Vnet: every frame starts with a virtio-net header (NetVnetHdrLen
	// bytes) carrying checksum and segmentation offload, as a TAP with
	// IFF_VNET_HDR gives them; frames may then be up to NetVnetFrameMax.
	Vnet bool
	// Addresses of user-mode networking (-p), where the network behind
	// the device is the monitor's own; empty otherwise.
	IPv4        string // address/prefix length
	IPv4Gateway string
	DNS         string

	// Block devices.
	Size       int64 // bytes, a multiple of SectorSize
	SectorSize int
	ReadOnly   bool
}

// ValidName reports whether s can name a device: 1 to 31 characters
// from [a-zA-Z0-9_], as Solo5 allows.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 31 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// FormatDevices encodes devs for DevicesEnv.
func FormatDevices(devs []Device) string {
	var b strings.Builder
	for i, d := range devs {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%s=%s,fd=%d", d.Kind, d.Name, d.FD)
		field := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&b, ",%s=%s", k, v)
			}
		}
		switch d.Kind {
		case NetDevice:
			field("mac", d.MAC)
			field("mtu", strconv.Itoa(d.MTU))
			if d.Ring {
				field("ring", "1")
			}
			if d.Vnet {
				field("vnet", "1")
			}
			field("ipv4", d.IPv4)
			field("gw", d.IPv4Gateway)
			field("dns", d.DNS)
		case BlockDevice:
			field("size", strconv.FormatInt(d.Size, 10))
			field("sector", strconv.Itoa(d.SectorSize))
			if d.ReadOnly {
				field("ro", "1")
			}
		}
	}
	return b.String()
}

// ParseDevices decodes DevicesEnv.
func ParseDevices(s string) ([]Device, error) {
	var devs []Device
	if s == "" {
		return nil, nil
	}
	for _, spec := range strings.Split(s, ";") {
		fields := strings.Split(spec, ",")
		kind, name, ok := strings.Cut(fields[0], "=")
		if !ok || !ValidName(name) || (kind != string(NetDevice) && kind != string(BlockDevice)) {
			return nil, fmt.Errorf("device %q: want net=NAME or block=NAME", fields[0])
		}
		d := Device{Kind: DeviceKind(kind), Name: name, FD: -1}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			var err error
			switch k {
			case "fd":
				d.FD, err = strconv.Atoi(v)
			case "mac":
				d.MAC = v
			case "mtu":
				d.MTU, err = strconv.Atoi(v)
			case "ring":
				d.Ring = v == "1"
			case "vnet":
				d.Vnet = v == "1"
			case "ipv4":
				d.IPv4 = v
			case "gw":
				d.IPv4Gateway = v
			case "dns":
				d.DNS = v
			case "size":
				d.Size, err = strconv.ParseInt(v, 10, 64)
			case "sector":
				d.SectorSize, err = strconv.Atoi(v)
			case "ro":
				d.ReadOnly = v == "1"
			default:
				// Unknown keys are for newer images; ignore them.
			}
			if err != nil {
				return nil, fmt.Errorf("device %s %s: bad %s %q", kind, name, k, v)
			}
		}
		if d.FD < 0 {
			return nil, fmt.Errorf("device %s %s: no descriptor", kind, name)
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// Manifest is the list of devices an image declares, encoded as
// "net:service block:storage block:files?": a device marked "?" is
// optional, one the image can use but runs without.
type Manifest []ManifestEntry

// ManifestEntry is one declared device.
type ManifestEntry struct {
	Kind DeviceKind
	Name string
	// Optional: the image runs without the device (its directive says
	// //morgana:block NAME optional), so a command line may leave it out.
	Optional bool
}

// optionalMark ends the encoding of an optional device.
const optionalMark = "?"

func (e ManifestEntry) String() string {
	s := string(e.Kind) + ":" + e.Name
	if e.Optional {
		s += optionalMark
	}
	return s
}

func (m Manifest) String() string {
	s := make([]string, len(m))
	for i, e := range m {
		s[i] = e.String()
	}
	return strings.Join(s, " ")
}

// Has reports whether m declares the device, optional or not.
func (m Manifest) Has(kind DeviceKind, name string) bool {
	for _, e := range m {
		if e.Kind == kind && e.Name == name {
			return true
		}
	}
	return false
}

// ParseManifest decodes a manifest string.
func ParseManifest(s string) (Manifest, error) {
	var m Manifest
	for _, f := range strings.Fields(s) {
		kind, name, ok := strings.Cut(f, ":")
		name, optional := strings.CutSuffix(name, optionalMark)
		if !ok || !ValidName(name) || (kind != string(NetDevice) && kind != string(BlockDevice)) {
			return nil, fmt.Errorf("manifest entry %q: want net:NAME or block:NAME, with a ? after an optional device", f)
		}
		if m.Has(DeviceKind(kind), name) {
			return nil, fmt.Errorf("manifest entry %q: declared twice", f)
		}
		m = append(m, ManifestEntry{Kind: DeviceKind(kind), Name: name, Optional: optional})
	}
	return m, nil
}
