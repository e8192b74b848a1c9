package hostdev

import (
	"fmt"
	"strings"

	"github.com/morgana-os/morgana/abi"
)

// Spec is one device of the command line, not yet opened.
type Spec struct {
	Kind     abi.DeviceKind
	Name     string
	Path     string // TAP interface name, or disk image file
	ReadOnly bool   // block devices: NAME=FILE:ro
	// User is set for the network device of -p user-mode networking,
	// which the monitor serves itself.
	User bool
}

func (s Spec) String() string {
	if s.User {
		return fmt.Sprintf("-p (net %s)", s.Name)
	}
	flag := "--" + string(s.Kind) + " " + s.Name + "=" + s.Path
	if s.ReadOnly {
		flag += ":ro"
	}
	return flag
}

// ParseNet parses the value of --net: NAME=TAPDEV.
func ParseNet(v string) (Spec, error) {
	name, tap, ok := strings.Cut(v, "=")
	switch {
	case !ok || tap == "":
		return Spec{}, fmt.Errorf("--net %s: want NAME=TAPDEV (e.g. service=tap0)", v)
	case !abi.ValidName(name):
		return Spec{}, fmt.Errorf("--net %s: bad device name %q (1-31 letters, digits, _)", v, name)
	case len(tap) >= 16 || strings.ContainsAny(tap, "/ \t"):
		return Spec{}, fmt.Errorf("--net %s: bad interface name %q", v, tap)
	}
	return Spec{Kind: abi.NetDevice, Name: name, Path: tap}, nil
}

// ParseBlock parses the value of --block: NAME=FILE or NAME=FILE:ro.
func ParseBlock(v string) (Spec, error) {
	name, file, ok := strings.Cut(v, "=")
	if !ok || file == "" {
		return Spec{}, fmt.Errorf("--block %s: want NAME=FILE or NAME=FILE:ro", v)
	}
	if !abi.ValidName(name) {
		return Spec{}, fmt.Errorf("--block %s: bad device name %q (1-31 letters, digits, _)", v, name)
	}
	s := Spec{Kind: abi.BlockDevice, Name: name, Path: file}
	if f, ok := strings.CutSuffix(file, ":ro"); ok {
		s.Path, s.ReadOnly = f, true
	} else if f, ok := strings.CutSuffix(file, ":rw"); ok {
		s.Path = f
	}
	return s, nil
}

// CheckNames fails when two devices of a kind share a name.
func CheckNames(specs []Spec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		k := string(s.Kind) + ":" + s.Name
		if seen[k] {
			return fmt.Errorf("%s: a %s device named %s is already attached", s, s.Kind, s.Name)
		}
		seen[k] = true
	}
	return nil
}

// CheckManifest compares the attached devices with the ones the image
// declares: each declared device must be attached, unless it is optional,
// and each attached one declared. An image without a manifest (built by
// plain go build) is not checked. With hostNetwork (unix mode), a network
// device may be left out: the host's sockets stand in for it.
func CheckManifest(specs []Spec, m abi.Manifest, declared, hostNetwork bool) error {
	if !declared {
		return nil
	}
	needs := "it declares no devices"
	if len(m) > 0 {
		needs = "it declares " + describe(m)
	}
	for _, e := range m {
		if e.Optional || hostNetwork && e.Kind == abi.NetDevice {
			continue
		}
		found := false
		for _, s := range specs {
			found = found || s.Kind == e.Kind && s.Name == e.Name
		}
		if !found {
			hint := "--block " + e.Name + "=FILE"
			if e.Kind == abi.NetDevice {
				hint = "--net " + e.Name + "=TAPDEV or -p HOST:GUEST"
			}
			return fmt.Errorf("the image needs %s device %q: attach it with %s (%s)", e.Kind, e.Name, hint, needs)
		}
	}
	for _, s := range specs {
		if !m.Has(s.Kind, s.Name) {
			return fmt.Errorf("%s: the image does not use a %s device named %s (%s)", s, s.Kind, s.Name, needs)
		}
	}
	return nil
}

func describe(m abi.Manifest) string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = string(e.Kind) + " " + e.Name
		if e.Optional {
			parts[i] += " (optional)"
		}
	}
	return strings.Join(parts, ", ")
}
