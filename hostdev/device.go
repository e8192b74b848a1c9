package hostdev

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"

	"github.com/morgana-os/morgana/abi"
)

// Device is an opened device.
type Device struct {
	Spec
	// File is what the guest gets: a TAP, one end of the user-mode
	// network's socket pair, or the disk image.
	File *os.File
	// Peer is the monitor's end of a user-mode network's socket pair.
	Peer *os.File
	// Info describes the device to the guest; FD is set by the mode.
	Info abi.Device
}

// Close releases the device's descriptors.
func (d *Device) Close() error {
	if d.Peer != nil {
		d.Peer.Close()
	}
	return d.File.Close()
}

// Open opens every device of specs, in order. On error it closes what it
// opened.
func Open(specs []Spec) ([]*Device, error) {
	if err := CheckNames(specs); err != nil {
		return nil, err
	}
	var devs []*Device
	for _, s := range specs {
		var d *Device
		var err error
		switch {
		case s.User:
			d, err = openUser(s)
		case s.Kind == abi.NetDevice:
			d, err = openTAP(s)
		default:
			d, err = openBlock(s)
		}
		if err != nil {
			CloseAll(devs)
			return nil, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// CloseAll closes devs.
func CloseAll(devs []*Device) {
	for _, d := range devs {
		d.Close()
	}
}

// Infos returns what the guest is told about devs, with descriptors
// numbered from first in order.
func Infos(devs []*Device, first int) []abi.Device {
	infos := make([]abi.Device, len(devs))
	for i, d := range devs {
		infos[i] = d.Info
		infos[i].FD = first + i
	}
	return infos
}

// Files returns the guest's files of devs, in order.
func Files(devs []*Device) []*os.File {
	fs := make([]*os.File, len(devs))
	for i, d := range devs {
		fs[i] = d.File
	}
	return fs
}

// randomMAC returns a random locally administered unicast address, as
// Solo5 and Firecracker give their guests.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&^1 | 2
	return mac
}

func wrap(s Spec, err error) error {
	return fmt.Errorf("%s: %w", s, err)
}
