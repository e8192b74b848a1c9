package hvt

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/morgana-os/morgana/abi"
)

// stats counts what the VM did, for --verbose and the benchmarks.
type stats struct {
	exits    atomic.Uint64
	syscalls atomic.Uint64
	signals  atomic.Uint64
	faults   atomic.Uint64 // page faults served (memory given on first touch)
	perCall  [512]callStats
}

// callStats is the count and time in the monitor of one system call.
type callStats struct {
	n  atomic.Uint64
	ns atomic.Int64
}

func (s *stats) call(nr int, d time.Duration) {
	if nr >= 0 && nr < len(s.perCall) {
		s.perCall[nr].n.Add(1)
		s.perCall[nr].ns.Add(int64(d))
	}
}

// topCalls formats the most frequent system calls: "name×count(time)".
func (s *stats) topCalls(k int) string {
	type row struct {
		nr int
		n  uint64
		ns int64
	}
	var rows []row
	for nr := range s.perCall {
		if n := s.perCall[nr].n.Load(); n > 0 {
			rows = append(rows, row{nr, n, s.perCall[nr].ns.Load()})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.n, a.n) })
	var parts []string
	for _, r := range rows[:min(k, len(rows))] {
		name := fmt.Sprint(r.nr)
		if e, ok := abi.Lookup(r.nr); ok {
			name = e.Name
		}
		parts = append(parts, fmt.Sprintf("%s×%d(%v)", name, r.n, time.Duration(r.ns).Round(time.Microsecond)))
	}
	return strings.Join(parts, " ")
}

// Stats is a snapshot of a VM's counters.
type Stats struct {
	Exits, Syscalls, Signals, Faults uint64
}

// Stats returns the VM's counters.
func (vm *VM) Stats() Stats {
	return Stats{Exits: vm.stats.exits.Load(), Syscalls: vm.stats.syscalls.Load(), Signals: vm.stats.signals.Load(), Faults: vm.stats.faults.Load()}
}
