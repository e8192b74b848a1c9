package hostdev

import (
	"strings"
	"testing"

	"github.com/morgana-os/morgana/abi"
)

func TestParse(t *testing.T) {
	tests := []struct {
		flag, v string
		want    Spec
		err     string
	}{
		{"net", "service=tap0", Spec{Kind: abi.NetDevice, Name: "service", Path: "tap0"}, ""},
		{"net", "service", Spec{}, "want NAME=TAPDEV"},
		{"net", "service=", Spec{}, "want NAME=TAPDEV"},
		{"net", "ser vice=tap0", Spec{}, "bad device name"},
		{"net", "service=averyveryverylongname", Spec{}, "bad interface name"},
		{"block", "storage=disk.img", Spec{Kind: abi.BlockDevice, Name: "storage", Path: "disk.img"}, ""},
		{"block", "storage=disk.img:ro", Spec{Kind: abi.BlockDevice, Name: "storage", Path: "disk.img", ReadOnly: true}, ""},
		{"block", "storage=a=b.img:rw", Spec{Kind: abi.BlockDevice, Name: "storage", Path: "a=b.img"}, ""},
		{"block", "=disk.img", Spec{}, "bad device name"},
		{"block", "storage", Spec{}, "want NAME=FILE"},
	}
	for _, tt := range tests {
		parse := ParseBlock
		if tt.flag == "net" {
			parse = ParseNet
		}
		got, err := parse(tt.v)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("--%s %s: error %v, want one with %q", tt.flag, tt.v, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("--%s %s = %+v, %v; want %+v", tt.flag, tt.v, got, err, tt.want)
		}
	}
}

func TestCheckManifest(t *testing.T) {
	m, _ := abi.ParseManifest("net:service block:storage")
	opt, _ := abi.ParseManifest("net:service block:storage block:files? block:cache?")
	net := Spec{Kind: abi.NetDevice, Name: "service", Path: "tap0"}
	disk := Spec{Kind: abi.BlockDevice, Name: "storage", Path: "d.img"}
	extra := Spec{Kind: abi.BlockDevice, Name: "logs", Path: "l.img"}
	files := Spec{Kind: abi.BlockDevice, Name: "files", Path: "f.tar", ReadOnly: true}
	cache := Spec{Kind: abi.BlockDevice, Name: "cache", Path: "c.img"}
	netFiles := Spec{Kind: abi.NetDevice, Name: "files", Path: "tap1"}
	tests := []struct {
		m           abi.Manifest
		specs       []Spec
		declared    bool
		hostNetwork bool
		err         string
	}{
		{m, []Spec{net, disk}, true, false, ""},
		{m, []Spec{disk, net}, true, false, ""},
		{m, []Spec{net}, true, false, `needs block device "storage"`},
		{m, []Spec{disk}, true, false, `needs net device "service": attach it with --net service=TAPDEV or -p`},
		{m, []Spec{net, disk, extra}, true, false, "does not use a block device named logs (it declares net service, block storage)"},
		{m, []Spec{extra}, false, false, ""}, // no manifest: nothing to check
		{m, []Spec{disk}, true, true, ""},    // unix mode without the network device
		{nil, []Spec{disk}, true, false, "declares no devices"},
		// Optional devices: attached or not, as long as the others are.
		{opt, []Spec{net, disk}, true, false, ""},
		{opt, []Spec{net, disk, files}, true, false, ""},
		{opt, []Spec{cache, files, disk, net}, true, false, ""},
		{opt, []Spec{files}, true, false, `needs net device "service"`},
		{opt, []Spec{net, files}, true, false, `needs block device "storage": attach it with --block storage=FILE (it declares net service, block storage, block files (optional), block cache (optional))`},
		{opt, []Spec{net, disk, extra}, true, false, "does not use a block device named logs"},
		{opt, []Spec{net, disk, netFiles}, true, false, "does not use a net device named files"}, // optional as a block device only
	}
	for _, tt := range tests {
		err := CheckManifest(tt.specs, tt.m, tt.declared, tt.hostNetwork)
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v against %q: %v, want %q", tt.specs, tt.m, err, tt.err)
		}
	}
}
