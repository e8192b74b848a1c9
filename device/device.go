// Package device is the guest side of morgana's device table: which
// devices the monitor attached (abi.DevicesEnv) and which the image
// declares it uses (its manifest). The device libraries, netdev and block,
// find their descriptors here; applications use those, not this.
package device

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/morgana-os/morgana/abi"
)

// manifest is the image's device manifest, "net:service block:storage",
// set at link time by `morgana build` from the //morgana:net and
// //morgana:block directives of the main package. The monitor reads it
// from the ELF before booting; see abi.ManifestSymbol.
var manifest string

var attached = sync.OnceValues(func() ([]abi.Device, error) {
	return abi.ParseDevices(os.Getenv(abi.DevicesEnv))
})

// Sandboxed reports whether the host's sockets are closed to the image,
// as they are in hvt and spt: there the devices are all it has. It asks
// the way the ABI answers: socket(2) is refused with EACCES.
var Sandboxed = sync.OnceValue(func() bool {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err == nil {
		syscall.Close(fd)
	}
	return err == syscall.EACCES || err == syscall.EPERM
})

// List returns the attached devices of a kind, in command-line order.
func List(kind abi.DeviceKind) ([]abi.Device, error) {
	devs, err := attached()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abi.DevicesEnv, err)
	}
	var out []abi.Device
	for _, d := range devs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out, nil
}

// Lookup returns the attached device of a kind and name, with an error
// that says how to attach it when it is not.
func Lookup(kind abi.DeviceKind, name string) (abi.Device, error) {
	if m, err := abi.ParseManifest(manifest); err == nil && manifest != "" && !m.Has(kind, name) {
		return abi.Device{}, fmt.Errorf("%s device %q: the image does not declare it (it declares %s); add //morgana:%s %s to its main package",
			kind, name, m, kind, name)
	}
	devs, err := attached()
	if err != nil {
		return abi.Device{}, fmt.Errorf("%s: %w", abi.DevicesEnv, err)
	}
	var have []string
	for _, d := range devs {
		if d.Kind == kind && d.Name == name {
			return d, nil
		}
		have = append(have, string(d.Kind)+" "+d.Name)
	}
	hint := "--block " + name + "=FILE"
	if kind == abi.NetDevice {
		hint = "--net " + name + "=TAPDEV"
	}
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return abi.Device{}, fmt.Errorf("no %s device %q attached (attached: %s): run with %s", kind, name, list, hint)
}
