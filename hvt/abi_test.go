package hvt

import (
	"testing"

	"github.com/morgana-os/morgana/abi"
)

// The monitor serves exactly the calls of the ABI table: nothing the table
// does not document, and nothing it promises is missing.
func TestHandlersMatchABI(t *testing.T) {
	for _, s := range abi.Table {
		if handlers[s.Nr] == nil {
			t.Errorf("%s (%d) is in the ABI table but has no handler", s.Name, s.Nr)
		}
	}
	for nr := range handlers {
		if _, ok := abi.Lookup(nr); !ok {
			t.Errorf("system call %d has a handler but is not in the ABI table", nr)
		}
	}
}

func TestFrameLayout(t *testing.T) {
	// struct rt_sigframe: pretcode, ucontext (uc_mcontext at 40, 256
	// bytes of sigcontext, then the 8-byte mask), siginfo (128 bytes).
	if ucSize != 304 || infoOffset != 312 || sigFrameSize != 440 {
		t.Errorf("ucontext %d, siginfo at %d, frame %d", ucSize, infoOffset, sigFrameSize)
	}
	if len(mcontextRegs) != 18 {
		t.Errorf("sigcontext holds 18 registers before cs, got %d", len(mcontextRegs))
	}
}
