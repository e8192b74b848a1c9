package abi

import (
	"reflect"
	"strings"
	"testing"
)

func TestDevicesRoundTrip(t *testing.T) {
	devs := []Device{
		{Kind: NetDevice, Name: "service", FD: 3, MAC: "02:00:00:00:00:01", MTU: 1500, Ring: true, Vnet: true,
			IPv4: "10.0.2.15/24", IPv4Gateway: "10.0.2.2", DNS: "10.0.2.3"},
		{Kind: BlockDevice, Name: "storage", FD: 4, Size: 1 << 20, SectorSize: 512},
		{Kind: BlockDevice, Name: "config_2", FD: 5, Size: 512, SectorSize: 512, ReadOnly: true},
	}
	s := FormatDevices(devs)
	got, err := ParseDevices(s)
	if err != nil {
		t.Fatalf("ParseDevices(%q): %v", s, err)
	}
	if !reflect.DeepEqual(got, devs) {
		t.Errorf("round trip of %q:\ngot  %+v\nwant %+v", s, got, devs)
	}
}

func TestParseDevicesErrors(t *testing.T) {
	for _, s := range []string{
		"net",                     // no name
		"disk=storage,fd=3",       // unknown kind
		"block=sto/rage,fd=3",     // bad name
		"block=storage",           // no descriptor
		"block=storage,fd=three",  // bad number
		"net=service,fd=3,mtu=-x", // bad number
		"block=" + strings.Repeat("x", 32) + ",fd=3",
	} {
		if _, err := ParseDevices(s); err == nil {
			t.Errorf("ParseDevices(%q) succeeded", s)
		}
	}
	if devs, err := ParseDevices("block=s,fd=3,future=1"); err != nil || len(devs) != 1 {
		t.Errorf("unknown keys must be ignored: %v %v", devs, err)
	}
}

func TestManifest(t *testing.T) {
	tests := []struct {
		in, want string // want: String() of the parsed manifest
		entries  Manifest
	}{
		{"", "", nil},
		{"net:service  block:storage", "net:service block:storage",
			Manifest{{NetDevice, "service", false}, {BlockDevice, "storage", false}}},
		{"net:service block:files? block:cache?", "net:service block:files? block:cache?",
			Manifest{{NetDevice, "service", false}, {BlockDevice, "files", true}, {BlockDevice, "cache", true}}},
		{"net:uplink?", "net:uplink?", Manifest{{NetDevice, "uplink", true}}},
	}
	for _, tt := range tests {
		m, err := ParseManifest(tt.in)
		if err != nil {
			t.Errorf("ParseManifest(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(m, tt.entries) || m.String() != tt.want {
			t.Errorf("ParseManifest(%q) = %+v (%q), want %+v (%q)", tt.in, m, m.String(), tt.entries, tt.want)
		}
		for _, e := range tt.entries {
			if !m.Has(e.Kind, e.Name) {
				t.Errorf("%q: Has(%s, %s) = false", tt.in, e.Kind, e.Name)
			}
		}
	}
	m, _ := ParseManifest("net:service block:storage?")
	if m.Has(NetDevice, "storage") || m.Has(BlockDevice, "storage?") {
		t.Errorf("Has is wrong for %v", m)
	}
	for _, bad := range []string{"net", "tty:x", "net:a net:a", "net:a net:a?", "block:", "block:?", "block:a??", "block:?a", "?block:a"} {
		if _, err := ParseManifest(bad); err == nil {
			t.Errorf("ParseManifest(%q) succeeded", bad)
		}
	}
}

func FuzzParseDevices(f *testing.F) {
	f.Add("net=service,fd=3,mac=02:00:00:00:00:01,mtu=1500;block=storage,fd=4,size=1048576,sector=512,ro=1")
	f.Add("block=s,fd=3")
	f.Add(";;,=")
	f.Fuzz(func(t *testing.T, s string) {
		devs, err := ParseDevices(s)
		if err != nil {
			return
		}
		again, err := ParseDevices(FormatDevices(devs))
		if err != nil {
			t.Fatalf("formatted devices do not parse: %v", err)
		}
		if len(again) != len(devs) {
			t.Fatalf("%d devices became %d", len(devs), len(again))
		}
	})
}
