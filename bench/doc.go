// Package bench holds morgana's comparative benchmarks: each one runs the same tiny guest
// program natively (the ELF executed directly on the host) and in a VM (`morgana run`), so that
// the VM's cost can be reported as a ratio to its native peer measured in the same run.
//
// The benchmarks are in the _test.go files; the guest programs are in guests/<name>. Run them
// with bench/run.sh, which also prints the ratios; docs/performance.md records the results.
package bench
