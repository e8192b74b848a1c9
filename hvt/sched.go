package hvt

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// The monitor's threads run under SCHED_BATCH.
//
// A VM's work is a relay between host threads on the same cores: a vCPU
// thread runs the guest, and the device goroutines' threads move frames
// between the host and the rings. Under the default policy each wake-up
// of one of them (a frame on the TAP, a kick) preempts the thread that
// runs, at once: for a stream of small packets that is a switch away from
// the vCPU and back for every packet, and on KVM every such switch also
// puts and reloads the vCPU's state. A SCHED_BATCH thread that wakes does
// not preempt; it runs when the running one blocks or its slice ends, by
// which time more work has queued up for it. Fairness and the share of the
// CPU are unchanged (batch is not a priority).
//
// Measured on one core (bench/dns, bench/website): DNS answers 1.39x as
// many queries a second (0.80x -> 1.12x of NSD), the website 1.3x as many
// requests for a 1 KB page; bulk transfers are unchanged.

// batchOnce makes the switch once per process.
var batchOnce sync.Once

// batchScheduling puts every thread of the monitor that runs under the
// default policy (SCHED_OTHER) under SCHED_BATCH, keeping its nice value;
// threads started later inherit the policy of the thread that made them.
// A thread under another policy (a real-time one the user chose) is left
// alone. It returns how many threads it switched.
func batchScheduling() (int, error) {
	switched := 0
	seen := map[int]bool{}
	// A thread created while the list is read was made by a thread not yet
	// switched, perhaps: read it again until nothing new appears.
	for {
		tids, err := threadIDs()
		if err != nil {
			return switched, err
		}
		fresh := false
		for _, tid := range tids {
			if seen[tid] {
				continue
			}
			seen[tid], fresh = true, true
			attr, err := unix.SchedGetAttr(tid, 0)
			if err == unix.ESRCH {
				continue // exited meanwhile
			}
			if err != nil {
				return switched, fmt.Errorf("sched_getattr of thread %d: %w", tid, err)
			}
			if attr.Policy != unix.SCHED_NORMAL {
				continue
			}
			attr.Policy = unix.SCHED_BATCH
			if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH {
				return switched, fmt.Errorf("sched_setattr of thread %d: %w", tid, err)
			}
			switched++
		}
		if !fresh {
			return switched, nil
		}
	}
}

// threadIDs lists the threads of the process.
func threadIDs() ([]int, error) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/task: %w", err)
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// useBatchScheduling switches the process to SCHED_BATCH, once; a failure
// costs only speed, so it is logged, not returned.
func (vm *VM) useBatchScheduling() {
	batchOnce.Do(func() {
		n, err := batchScheduling()
		if err != nil {
			vm.log.Warn("scheduling: the monitor's threads stay under the default policy", "err", err)
			return
		}
		vm.log.Info("scheduling", "policy", "batch", "threads", n)
	})
}
