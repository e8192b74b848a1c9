// Package guestmem is the guest's memory as the monitor manages it:
// guest-physical frames backed lazily by one host mapping, the x86-64 page
// tables that map guest-virtual addresses onto them, and the set of mapped
// areas (VMAs) that mmap, munmap, mprotect and madvise work on.
//
// Guest-virtual is not guest-physical: the Go runtime asks for memory at
// hinted addresses spread over the whole 47-bit space, and honouring the
// hints saves it from retrying. Frames are taken from one pool whose size is
// the VM's memory size, so --mem is a hard limit on committed memory, while
// the host backs only what the guest touches.
//
// One rule keeps the translations the CPU (or the hypervisor's shadow page
// tables) may have cached honest without any flush instruction: a present
// page-table entry is never changed in place to grant less. To take access
// away, the monitor moves the page to a new frame and discards the old one
// on the host (madvise MADV_DONTNEED), which makes KVM drop every
// translation to it. Entries that grant more may be stale-restrictive for a
// moment; the monitor treats the resulting page fault as spurious.
package guestmem
