// Package spt runs an image as a host process locked down by a seccomp
// filter: morgana's spt mode, after Solo5's sandboxed-process tender.
//
// The filter is generated from the guest ABI table (package abi), the same
// table the hvt monitor serves: a call the table refuses fails with the
// table's errno, a call it does not list fails with ENOSYS, and the calls
// it allows are narrowed by their arguments where that closes a door (no
// new executable memory, threads but no processes, signals only to itself).
// There is no monitor in the data path: the host kernel serves the allowed
// calls, and the filter is the whole trusted boundary.
//
// The image is started by morgana itself in a child process: the child
// sets no_new_privs, loads the filter on all its threads, and replaces
// itself with the image by execveat on a close-on-exec descriptor, the one
// exec the filter allows. Once the image runs, that descriptor is gone.
package spt
