package main

import (
	"slices"
	"strings"
	"testing"
)

func TestMemLimit(t *testing.T) {
	for _, tc := range []struct{ mem, image, want uint64 }{
		{256 << 20, 17 << 20, 256<<20 - 32<<20 - 17<<20},
		{64 << 20, 2 << 20, 64<<20 - 8<<20 - 2<<20},
		{16 << 20, 15 << 20, 0}, // the image takes it all
		{0, 0, 0},
	} {
		if got := memLimit(tc.mem, tc.image); got != tc.want {
			t.Errorf("memLimit(%d, %d) = %d, want %d", tc.mem, tc.image, got, tc.want)
		}
	}
}

func TestGuestEnvMemLimit(t *testing.T) {
	for _, tc := range []struct {
		mode string
		env  []string
		want string // GOMEMLIMIT=..., or "" for none
	}{
		{"hvt", nil, "GOMEMLIMIT=209715200"},
		{"spt", nil, "GOMEMLIMIT=209715200"},
		{"unix", nil, ""},                                       // --mem is no limit there
		{"hvt", []string{"GOMEMLIMIT=1GiB"}, "GOMEMLIMIT=1GiB"}, // the user's, kept
		{"hvt", []string{"GOMEMLIMIT=off"}, "GOMEMLIMIT=off"},
	} {
		o := runOptions{mode: tc.mode, env: tc.env, mem: 256 << 20, imageSize: 24 << 20}
		var got []string
		for _, kv := range guestEnv(o, nil) {
			if strings.HasPrefix(kv, "GOMEMLIMIT=") {
				got = append(got, kv)
			}
		}
		var want []string
		if tc.want != "" {
			want = []string{tc.want}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %v: %q, want %q", tc.mode, tc.env, got, want)
		}
	}
}
