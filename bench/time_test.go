package bench

import (
	"strconv"
	"testing"
)

// BenchmarkTimeNow measures time.Now() in the guest: guests/timenow calls it b.N times in one
// loop and times the loop itself; one process run per b.N batch. Natively the clock is read
// through Linux's vDSO, in hvt through morgana's; neither should exit. For hvt the benchmark
// logs it when --verbose shows clock_gettime system calls, i.e. readings that missed the vDSO.
func BenchmarkTimeNow(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			elf := mustBuild(b).guests["timenow"]
			r := m.run(b, m.command(b, elf, m.name != "native", strconv.Itoa(b.N)))
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(nsPerCall(b, r.stdout, b.N), "ns/call")
			if m.name == "native" {
				return
			}
			if s := parseVerbose(b, r.stderr); s.calls["clock_gettime"].n > 0 {
				b.Logf("%d clock_gettime system calls in %d time.Now: the vDSO was not used for all", s.calls["clock_gettime"].n, b.N)
			}
		})
	}
}
