// Package elfimage reads, validates and describes a guest image: the static
// linux/amd64 Go executable that morgana runs inside a VM.
//
// The monitor loads an image itself instead of asking a kernel to, so every
// promise the kernel's ELF loader would have checked has to be checked here,
// before any guest memory is touched. Parse therefore rejects, with one
// clear line naming the file, anything the monitor could not load exactly as
// Linux would: images for another machine, position-independent or
// dynamically linked executables, cgo builds (which need a libc and threads
// the monitor does not provide), overlapping or out-of-range segments, and
// writable-and-executable memory (the monitor never maps W+X pages).
//
// The input is untrusted: every size is checked against the file and against
// fixed limits before anything is allocated, so a corrupt or hostile file
// fails fast instead of panicking, hanging or exhausting memory.
//
// Besides the loadable segments, an Image keeps what a crash report needs:
// the ELF function symbols (Symbolize) and Go's pc-to-line table (Line).
package elfimage
