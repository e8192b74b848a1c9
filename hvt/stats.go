package hvt

import "sync/atomic"

// stats counts what the VM did, for --verbose and the benchmarks.
type stats struct {
	exits    atomic.Uint64
	syscalls atomic.Uint64
	signals  atomic.Uint64
	faults   atomic.Uint64 // page faults served (memory given on first touch)
}

// Stats is a snapshot of a VM's counters.
type Stats struct {
	Exits, Syscalls, Signals, Faults uint64
}

// Stats returns the VM's counters.
func (vm *VM) Stats() Stats {
	return Stats{Exits: vm.stats.exits.Load(), Syscalls: vm.stats.syscalls.Load(), Signals: vm.stats.signals.Load(), Faults: vm.stats.faults.Load()}
}
