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
	net := Spec{Kind: abi.NetDevice, Name: "service", Path: "tap0"}
	disk := Spec{Kind: abi.BlockDevice, Name: "storage", Path: "d.img"}
	extra := Spec{Kind: abi.BlockDevice, Name: "logs", Path: "l.img"}
	tests := []struct {
		specs    []Spec
		declared bool
		err      string
	}{
		{[]Spec{net, disk}, true, ""},
		{[]Spec{disk, net}, true, ""},
		{[]Spec{net}, true, `needs block device "storage"`},
		{[]Spec{disk}, true, `needs net device "service": attach it with --net service=TAPDEV or -p`},
		{[]Spec{net, disk, extra}, true, "does not use a block device named logs (it declares net service, block storage)"},
		{[]Spec{extra}, false, ""}, // no manifest: nothing to check
	}
	for _, tt := range tests {
		err := CheckManifest(tt.specs, m, tt.declared, false)
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: %v, want %q", tt.specs, err, tt.err)
		}
	}
	if err := CheckManifest([]Spec{disk}, m, true, true); err != nil {
		t.Errorf("unix mode without the network device: %v", err)
	}
	if err := CheckManifest([]Spec{disk}, nil, true, false); err == nil || !strings.Contains(err.Error(), "declares no devices") {
		t.Errorf("an image that declares none: %v", err)
	}
}
