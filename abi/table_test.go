package abi

import (
	"bytes"
	"os"
	"testing"
)

func TestTableSorted(t *testing.T) {
	seen := map[string]bool{}
	for i, s := range Table {
		if i > 0 && Table[i-1].Nr >= s.Nr {
			t.Errorf("entry %d (%s) out of order or duplicated", i, s.Name)
		}
		if seen[s.Name] {
			t.Errorf("%s listed twice", s.Name)
		}
		seen[s.Name] = true
		if (s.Status == Refused) != (s.Errno != 0) {
			t.Errorf("%s: status %s with errno %d: refused calls, and only they, have an errno", s.Name, s.Status, s.Errno)
		}
		if s.Status != Supported && s.Notes == "" {
			t.Errorf("%s is %s but says nothing about what it does", s.Name, s.Status)
		}
	}
}

// The document must say what the code does.
func TestDocUpToDate(t *testing.T) {
	got, err := os.ReadFile("../docs/abi.md")
	if err != nil {
		t.Fatalf("%v (run go generate ./abi)", err)
	}
	if !bytes.Equal(got, Markdown()) {
		t.Error("docs/abi.md is stale: run go generate ./abi")
	}
}
