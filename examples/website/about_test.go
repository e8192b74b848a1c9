package main

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morgana-os/morgana/abi"
)

func TestReadImageInfo(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "image")
	if err := os.WriteFile(exe, make([]byte, 12345), 0o755); err != nil {
		t.Fatal(err)
	}
	found := func() (string, error) { return exe, nil }
	lost := func() (string, error) { return "", errors.New("no file system") }
	boot := processStart.Add(-30 * time.Millisecond)
	tests := []struct {
		name       string
		env        map[string]string
		executable func() (string, error)
		size       int64
		start      time.Time
		mode       string
	}{
		{"native", nil, found, 12345, processStart, ""},
		{"in a VM, told", map[string]string{abi.ImageSizeEnv: "999", abi.BootNSEnv: fmt.Sprint(boot.UnixNano()), abi.ModeEnv: "hvt"}, lost, 999, boot, "hvt"},
		{"in a VM, not told", nil, lost, -1, processStart, ""},
		{"bad size", map[string]string{abi.ImageSizeEnv: "-5"}, found, 12345, processStart, ""},
		{"boot in the future", map[string]string{abi.BootNSEnv: fmt.Sprint(processStart.Add(time.Second).UnixNano())}, found, 12345, processStart, ""},
		{"boot ages ago", map[string]string{abi.BootNSEnv: fmt.Sprint(processStart.Add(-2 * time.Hour).UnixNano())}, found, 12345, processStart, ""},
		{"boot garbage", map[string]string{abi.BootNSEnv: "soon"}, found, 12345, processStart, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := readImageInfo(func(k string) string { return tt.env[k] }, tt.executable)
			if info.size != tt.size || !info.start.Equal(tt.start) || info.mode != tt.mode {
				t.Errorf("size %d, start %v, mode %q; want %d, %v, %q", info.size, info.start, info.mode, tt.size, tt.start, tt.mode)
			}
		})
	}
}

func TestAboutPage(t *testing.T) {
	now := processStart.Add(42 * time.Millisecond)
	bootReady.Store(&now)
	var served atomic.Int64
	served.Store(7)
	p := &aboutPage{info: imageInfo{size: 5 << 20, sizeSource: "test", start: processStart, bootSource: "test", mode: "hvt"}, site: site(), served: &served}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("GET", "/about", nil))
	body := w.Body.String()
	var counts [3]int
	for _, s := range abi.Table {
		counts[s.Status]++
	}
	for _, want := range []string{
		"<title>About this image · morgana</title>",
		`<div class="value">5.0 MiB</div>`,
		`<div class="value">42.0 ms</div>`,
		fmt.Sprintf(`<div class="value">%d</div>`, len(abi.Table)),
		fmt.Sprintf(`<span class="supported">%d supported</span>`, counts[abi.Supported]),
		fmt.Sprintf(`<span class="partial">%d partial</span>`, counts[abi.Partial]),
		fmt.Sprintf(`<span class="refused">%d refused</span>`, counts[abi.Refused]),
		`<div class="value">a KVM VM</div>`,
		"7 requests served",
		`as morgana run says (MORGANA_MODE)`,
		`<a href="/docs/design.html">Design</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the about page lacks %s", want)
		}
	}
	if w.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("headers %v", w.Header())
	}
	w = httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("HEAD", "/about", nil))
	if w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d bytes of body, Content-Length %q", w.Body.Len(), w.Header().Get("Content-Length"))
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{-1: "unknown", 0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 16 << 20: "16.0 MiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
