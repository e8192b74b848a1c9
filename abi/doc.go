// Package abi is the guest ABI of morgana: the one table of Linux system
// calls that a guest image may make, with what each does.
//
// The table is the whole attack surface of the monitor. The hvt monitor
// serves exactly these calls, the spt mode derives its seccomp filter from
// them, and docs/abi.md is generated from them (go generate ./abi). A call
// that is not in the table fails with ENOSYS and is reported once.
//
// The package has no dependencies so that every part of morgana, host or
// guest, can import it.
package abi

// Version changes whenever the meaning of the table changes.
const Version = 1

//go:generate go run ./gen -o ../docs/abi.md
