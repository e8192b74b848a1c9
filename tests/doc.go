// Package tests holds morgana's integration tests: they build the morgana binary and small guest
// programs (tests/guests, one per feature), boot them, and compare what they print and how they
// exit with the same programs run natively. Every case runs in every mode (see modes_test.go):
// native, the reference, and hvt, through `morgana run` on KVM.
//
// Run them with `make test`, or `go test ./tests`; `go test ./tests -run 'TestGuests/.*/native'`
// runs one column, and MORGANA_LONG_TESTS=1 (or -long) adds the slow cases.
package tests
