package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// buildImage builds tests/guests/<name> with `morgana build`, which records the device
// manifest of its //morgana: directives, and returns the image's path.
func buildImage(t testing.TB, name string) string {
	t.Helper()
	return buildPackageImage(t, "./tests/guests/"+name)
}

// buildPackageImage builds the package at pkg (relative to the module root) with `morgana build`.
func buildPackageImage(t testing.TB, pkg string) string {
	t.Helper()
	bin := mustHaveMorgana(t)
	out := filepath.Join(workDir, "images", strings.ReplaceAll(strings.TrimPrefix(pkg, "./"), "/", "_"))
	path, err := cachedBuild("image "+pkg, func() (string, error) {
		cmd := goCommand(hostTarget)
		cmd.Path, cmd.Args = bin, []string{bin, "build", "-o", out, pkg}
		return out, run(cmd)
	})
	if err != nil {
		t.Fatalf("morgana build %s: %v", pkg, err)
	}
	return path
}

// newDisk makes a disk image of size bytes filled with random data.
func newDisk(t testing.TB, size int) string {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 9))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBlock runs the block-device guest in every monitor mode: round trips, refusals,
// read-only enforcement, and durability across a kill -9 of the monitor.
func TestBlock(t *testing.T) {
	const size = 8 << 20
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			image := buildImage(t, "blk")
			t.Run("round-trip", func(t *testing.T) {
				disk := newDisk(t, size)
				s := runSpec{image: image, args: []string{"-size", fmt.Sprint(size)}, monitorFlags: []string{"--block", "storage=" + disk}}
				r := startIn(t, m, s).wait()
				if r.exit != 0 {
					t.Errorf("exit status %d", r.exit)
				}
				checkPassed(t, r)
			})
			t.Run("read-only", func(t *testing.T) {
				disk := newDisk(t, size)
				before, _ := os.ReadFile(disk)
				s := runSpec{image: image, args: []string{"-want", "ro", "-size", fmt.Sprint(size)}, monitorFlags: []string{"--block", "storage=" + disk + ":ro"}}
				r := startIn(t, m, s).wait()
				checkPassed(t, r)
				if after, _ := os.ReadFile(disk); !bytes.Equal(before, after) {
					t.Error("the read-only disk changed")
				}
			})
			t.Run("durable-after-kill-9", func(t *testing.T) {
				disk := newDisk(t, size)
				const seed = 77
				s := runSpec{image: image, args: []string{"-want", "durable", "-seed", fmt.Sprint(seed), "-size", fmt.Sprint(size)},
					monitorFlags: []string{"--block", "storage=" + disk}}
				run := startIn(t, m, s)
				if !run.waitFor("flushed") {
					t.Fatalf("the guest never flushed")
				}
				// SIGKILL to the monitor alone: no chance to clean up.
				if err := run.signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				// In spt and unix the guest is a process of its own, in the monitor's process
				// group, which SIGKILL leaves orphaned: it must not outlive the test.
				syscall.Kill(-run.cmd.Process.Pid, syscall.SIGKILL)
				run.wait()
				got, err := os.ReadFile(disk)
				if err != nil {
					t.Fatal(err)
				}
				if want := pattern(seed, 1<<20); !bytes.Equal(got[:len(want)], want) {
					t.Error("the flushed data did not survive kill -9 of the monitor")
				}
				if len(got) != size {
					t.Errorf("disk size %d, want %d", len(got), size)
				}
			})
		})
	}
}

// pattern is tests/guests/blk's Pattern.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestDeviceErrors checks the device flags against the image's manifest and the host: every
// mistake is one line and exit status 125, before the guest starts.
func TestDeviceErrors(t *testing.T) {
	for _, m := range monitorModes() {
		t.Run(m.name, func(t *testing.T) {
			m.ready(t)
			image := buildImage(t, "blk")
			plain := buildGuest(t, "hello") // built by go build: no manifest
			disk := newDisk(t, 1<<20)
			odd := filepath.Join(t.TempDir(), "odd.img")
			os.WriteFile(odd, make([]byte, 1000), 0o644)
			cases := []struct {
				name  string
				image string
				flags []string
				want  string
			}{
				{"missing", image, nil, `needs block device "storage": attach it with --block storage=FILE`},
				{"not declared", image, []string{"--block", "storage=" + disk, "--block", "logs=" + disk}, "does not use a block device named logs"},
				{"net not declared", image, []string{"--block", "storage=" + disk, "--net", "service=tap9"}, "does not use a net device named service"},
				{"no such file", image, []string{"--block", "storage=" + disk + ".nope"}, "no such file"},
				{"not whole sectors", image, []string{"--block", "storage=" + odd}, "not a positive multiple of the 512-byte sector"},
				{"twice", image, []string{"--block", "storage=" + disk, "--block", "storage=" + disk}, "already attached"},
				{"bad name", image, []string{"--block", "st/orage=" + disk}, "bad device name"},
				{"no file", image, []string{"--block", "storage"}, "want NAME=FILE"},
				{"no such tap", plain, []string{"--net", "service=mgnotap0"}, "no network interface mgnotap0"},
			}
			for _, c := range cases {
				t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
					r := startIn(t, m, runSpec{image: c.image, monitorFlags: c.flags}).wait()
					checkMonitorError(t, r, c.want)
				})
			}
		})
	}
}

// TestDiskLocked checks that two unikernels cannot attach the same disk for writing.
func TestDiskLocked(t *testing.T) {
	m := monitorModes()[0]
	m.ready(t)
	image := buildImage(t, "blk")
	disk := newDisk(t, 1<<20)
	first := startIn(t, m, runSpec{image: image, args: []string{"-want", "durable", "-size", fmt.Sprint(1 << 20)}, monitorFlags: []string{"--block", "storage=" + disk}})
	if !first.waitFor("flushed") {
		t.Fatal("the first guest never flushed")
	}
	r := startIn(t, m, runSpec{image: image, monitorFlags: []string{"--block", "storage=" + disk}}).wait()
	checkMonitorError(t, r, "in use by another unikernel")
	first.signal(syscall.SIGKILL)
	first.wait()
}
