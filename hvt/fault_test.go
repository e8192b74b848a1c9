package hvt

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/x86"
)

// TestPageFaultCode: the si_code of a page fault's SIGSEGV follows Linux,
// which takes it from the mapped areas and not from the page-table entry:
// SEGV_ACCERR in an area (PROT_NONE, a write to a read-only page), even when
// no page is present, and SEGV_MAPERR outside any area and anywhere in the
// kernel half, even where a (supervisor) page is present. Go prints the code
// in its "unexpected fault address" report.
func TestPageFaultCode(t *testing.T) {
	const user, write = x86.PFUser, x86.PFUser | x86.PFWrite
	for _, c := range []struct {
		name   string
		err    uint64
		cr2    uint64
		inArea bool
		want   int32
	}{
		{"nil", user, 0x8, false, segvMaperr},
		{"unmapped", user, 0xdead0000, false, segvMaperr},
		{"PROT_NONE, not present", user, 0x7f00_0000_0000, true, segvAccerr},
		{"write to read-only, present", write | x86.PFPresent, 0x7f00_0000_0000, true, segvAccerr},
		{"write to read-only, not yet present", write, 0x7f00_0000_0000, true, segvAccerr},
		{"last user page", user, userEnd - 1, true, segvAccerr},
		{"kernel half", user, 0xffff_8000_0000_1000, false, segvMaperr},
		{"monitor's supervisor page", user | x86.PFPresent, kernelBase, false, segvMaperr},
		{"kernel half, area claimed", user | x86.PFPresent, kernelBase, true, segvMaperr},
	} {
		t.Run(c.name, func(t *testing.T) {
			info, ok := faultSignal(x86.VecPF, trapInfo{trapno: x86.VecPF, err: c.err, cr2: c.cr2}, 0x401000, c.inArea)
			if !ok || info.signo != int(unix.SIGSEGV) || info.code != c.want || info.addr != c.cr2 {
				t.Errorf("faultSignal = %+v, %v; want SIGSEGV code %d at %#x", info, ok, c.want, c.cr2)
			}
		})
	}
}
