package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkBoot measures boot to exit of a hello world (guests/hello): one iteration is one
// whole process run, from fork/exec to the exit status, of the ELF executed directly (native)
// or of `morgana run ELF` (hvt: the monitor's own start-up, VM creation, image loading, the Go
// runtime's start-up with every system call an exit, and tear-down).
//
// Besides ns/op (the mean) it reports ms/boot-median. For hvt it also reports, from a few extra
// untimed runs with --verbose, the exits per boot, the system calls among them, and the
// monitor's own split of the time (setup-ms: VM set-up, from hvt.New to the guest's first
// instruction; run-ms: from there to the guest's exit), and it logs the most frequent system
// calls once.
func BenchmarkBoot(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			elf := mustBuild(b).guests["hello"]
			argv := m.command(b, elf, false)
			m.run(b, argv) // warm the page cache and check the program works
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				r := m.run(b, argv)
				durations = append(durations, r.elapsed)
			}
			b.StopTimer()
			if got := m.run(b, argv).stdout; got != "hello, world\n" {
				b.Fatalf("hello printed %q", got)
			}
			b.ReportMetric(float64(median(durations))/1e6, "ms/boot-median")
			if m.name == "native" {
				return
			}
			reportExits(b, m, m.command(b, elf, true))
		})
	}
}

// verboseSamples is how many extra --verbose runs BenchmarkBoot/hvt averages its exit counts
// over, per call of the benchmark function.
const verboseSamples = 3

func reportExits(b *testing.B, m mode, argv []string) {
	b.Helper()
	var exits, syscalls float64
	var setup, guestRun []time.Duration
	var last vmStats
	for range verboseSamples {
		s := parseVerbose(b, m.run(b, argv).stderr)
		exits += float64(s.exits)
		syscalls += float64(s.syscalls)
		setup = append(setup, s.setup)
		guestRun = append(guestRun, s.elapsed-s.setup) // elapsed counts from hvt.New, as setup does
		last = s
	}
	b.ReportMetric(exits/verboseSamples, "exits/boot")
	b.ReportMetric(syscalls/verboseSamples, "syscalls/boot")
	b.ReportMetric(float64(median(setup))/1e6, "setup-ms")
	b.ReportMetric(float64(median(guestRun))/1e6, "run-ms")
	logOnce(b, "one boot: exits=%d syscalls=%d faults=%s setup=%v run=%v; top calls: %s",
		last.exits, last.syscalls, last.raw["faults"], last.setup, last.elapsed-last.setup, topSummary(last))
}

// topSummary lists the top calls by count with their share of the exits.
func topSummary(s vmStats) string {
	names := make([]string, 0, len(s.calls))
	for name := range s.calls {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return int(s.calls[b].n) - int(s.calls[a].n) })
	var parts []string
	for _, name := range names {
		c := s.calls[name]
		parts = append(parts, fmt.Sprintf("%s×%d (%.0f%%, %v in the monitor)", name, c.n, 100*float64(c.n)/float64(s.exits), c.time))
	}
	return strings.Join(parts, ", ")
}
