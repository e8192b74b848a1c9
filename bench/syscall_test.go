package bench

import (
	"strconv"
	"testing"
)

// BenchmarkSyscall measures one system call round trip: guests/syscall makes b.N getpid calls
// in one loop and times the loop itself, so the process's start-up is not in the figure. One
// process run per b.N batch; the result is ns/call as the guest measured it (ns/op, which would
// include the start-up, is suppressed). For hvt every call is one exit to the monitor and
// back; monitor-ns/call is the monitor's own share, from --verbose.
func BenchmarkSyscall(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			elf := mustBuild(b).guests["syscall"]
			n := strconv.Itoa(b.N)
			r := m.run(b, m.command(b, elf, m.name != "native", n))
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(nsPerCall(b, r.stdout, b.N), "ns/call")
			if m.name == "native" {
				return
			}
			s := parseVerbose(b, r.stderr)
			if c, ok := s.calls["getpid"]; ok && c.n > 0 {
				b.ReportMetric(float64(c.time.Nanoseconds())/float64(c.n), "monitor-ns/call")
			}
		})
	}
}
