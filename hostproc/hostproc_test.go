package hostproc

import (
	"os"
	"path/filepath"
	"testing"
)

// The test binary itself is the guest: with HOSTPROC_CHILD set it behaves
// as the child the test describes.
func TestMain(m *testing.M) {
	switch os.Getenv("HOSTPROC_CHILD") {
	case "exit":
		os.Exit(7)
	case "kill":
		p, _ := os.FindProcess(os.Getpid())
		p.Signal(os.Kill)
		select {}
	case "env":
		if len(os.Environ()) != 1 || os.Args[1] != "x" {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		child string
		cpus  int
		want  int
	}{
		{"exit", 0, 7},
		{"kill", 1, 128 + 9},
		{"env", 1, 0},
	}
	for _, tt := range tests {
		got, err := Run(Config{Image: self, Argv: []string{self, "x"}, Env: []string{"HOSTPROC_CHILD=" + tt.child}, CPUs: tt.cpus})
		if err != nil || got != tt.want {
			t.Errorf("%s: status %d, %v; want %d", tt.child, got, err, tt.want)
		}
	}
	if _, err := Run(Config{Image: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing image started")
	}
}
