// Package check is the guest programs' reporting helper. Every check prints one line on stdout,
// "ok: ..." or "FAIL: ...", and Done ends the program with status 1 if any check failed, so a
// guest cannot pass silently: the tests look for the final "PASS" line and for status 0.
package check

import (
	"fmt"
	"os"
)

var failed int

// Okf reports a check that passed.
func Okf(format string, args ...any) { fmt.Printf("ok: "+format+"\n", args...) }

// Failf reports a check that failed; the program goes on, and Done exits with status 1.
func Failf(format string, args ...any) {
	failed++
	fmt.Printf("FAIL: "+format+"\n", args...)
}

// That reports cond as a passed or failed check.
func That(cond bool, format string, args ...any) {
	if cond {
		Okf(format, args...)
	} else {
		Failf(format, args...)
	}
}

// Infof prints a measurement that is not a check.
func Infof(format string, args ...any) { fmt.Printf("info: "+format+"\n", args...) }

// Done prints PASS and returns if every check passed; otherwise it prints how many failed and
// exits with status 1.
func Done() {
	if failed > 0 {
		fmt.Printf("FAIL (%d checks failed)\n", failed)
		os.Exit(1)
	}
	fmt.Println("PASS")
}
