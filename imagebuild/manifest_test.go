package imagebuild

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/abi"
)

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
		err       string // in the error, after "main.go:LINE: "
	}{
		{"none", "package main\n// morgana:net service (not a directive: a space)\n", nil, ""},
		{"net and block", "//morgana:net service\n\t//morgana:block storage\n", []string{"net:service", "block:storage"}, ""},
		{"optional", "//morgana:block files optional\n//morgana:net uplink   optional\n", []string{"block:files?", "net:uplink?"}, ""},
		{"bad kind", "package main\n//morgana:disk storage\n", nil, "2: //morgana:disk storage: not a kind of device"},
		{"no name", "//morgana:block\n", nil, "1: //morgana:block: no device name"},
		{"bad name", "//morgana:block sto/rage\n", nil, `bad device name "sto/rage"`},
		{"not optional", "//morgana:block files required\n", nil, `unexpected "required" after the name`},
		{"too much", "//morgana:block files optional now\n", nil, `unexpected "optional now"`},
		{"old form with ?", "//morgana:block files?\n", nil, `bad device name "files?"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDirectives(strings.NewReader(tt.src), "main.go")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), "main.go:") || !strings.Contains(err.Error(), tt.err) ||
					!strings.Contains(err.Error(), "//morgana:block NAME, or either with optional after NAME") {
					t.Errorf("error %v, want one with %q and the forms wanted", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
			if _, err := abi.ParseManifest(strings.Join(got, " ")); err != nil {
				t.Errorf("the entries do not parse as a manifest: %v", err)
			}
		})
	}
}

// readManifest gathers the directives of every file of the main package,
// optional devices marked, and withManifest puts them in the link flags.
func TestReadManifest(t *testing.T) {
	mod := testModule(t, map[string]string{
		"srv/main.go":  "package main\n\n//morgana:net service\n\nfunc main() { println(\"hello\") }\n",
		"srv/files.go": "package main\n\n//morgana:block files optional\n//morgana:block cache optional\n",
		"bad/main.go":  "package main\n\n//morgana:block files maybe\n\nfunc main() {}\n",
		"none/main.go": helloSrc,
	})
	m, declared, err := readManifest(context.Background(), Options{Dir: mod}, "./srv")
	if err != nil || !declared {
		t.Fatalf("readManifest: %v, %v", declared, err)
	}
	want := abi.Manifest{{Kind: abi.BlockDevice, Name: "files", Optional: true}, {Kind: abi.BlockDevice, Name: "cache", Optional: true}, {Kind: abi.NetDevice, Name: "service"}}
	if !slices.Equal(m, want) {
		t.Errorf("manifest %s, want %s", m, want)
	}
	flags := withManifest([]string{"-ldflags=-s"}, m)
	if want := `-ldflags=-s -X "` + abi.ManifestSymbol + `=block:files? block:cache? net:service"`; !slices.Equal(flags, []string{want}) {
		t.Errorf("flags %q, want %q", flags, want)
	}
	if _, declared, err := readManifest(context.Background(), Options{Dir: mod}, "./none"); declared || err != nil {
		t.Errorf("a package without directives: declared %v, %v", declared, err)
	}
	if _, _, err := readManifest(context.Background(), Options{Dir: mod}, "./bad"); err == nil || !strings.Contains(err.Error(), `unexpected "maybe"`) {
		t.Errorf("a bad directive: %v", err)
	}
}
