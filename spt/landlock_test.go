package spt

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// With SPT_TEST_CHILD=landlock the test binary is the child of
// TestLandlock: it restricts itself and reports what it could still do.
func TestMain(m *testing.M) {
	if os.Getenv("SPT_TEST_CHILD") == "landlock" {
		os.Exit(landlockChild())
	}
	os.Exit(m.Run())
}

func landlockChild() int {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 3
	}
	abi, err := landlock()
	if err != nil {
		return 4
	}
	if abi == 0 {
		return 5 // no Landlock here
	}
	if f, err := os.Open("/etc/hostname"); err == nil || !errors.Is(err, unix.EACCES) {
		if f != nil {
			f.Close()
		}
		return 1 // a file other than the image could still be opened
	}
	img, err := os.Open("/proc/self/fd/3")
	if err != nil {
		return 2 // the image itself could not be read
	}
	img.Close()
	return 0
}

func TestLandlock(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	img, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "SPT_TEST_CHILD=landlock")
	cmd.ExtraFiles = []*os.File{img}
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	switch code {
	case 0:
	case 5:
		t.Skip("this kernel has no Landlock")
	default:
		t.Errorf("child exited %d (%v): 1 = another file opened, 2 = image unreadable, 3/4 = set-up failed", code, err)
	}
}
