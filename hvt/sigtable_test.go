package hvt

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/x86"
)

// putAction and getAction move a struct sigaction in guest memory.
func putAction(t *testing.T, vm *VM, va uint64, a sigaction) {
	t.Helper()
	b := make([]byte, 0, 32)
	for _, w := range []uint64{a.handler, a.flags, a.restorer, a.mask} {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	if err := vm.as.CopyOut(va, b); err != nil {
		t.Fatal(err)
	}
}

func getAction(t *testing.T, vm *VM, va uint64) sigaction {
	t.Helper()
	return sigaction{getU64(t, vm, va), getU64(t, vm, va+8), getU64(t, vm, va+16), getU64(t, vm, va+24)}
}

// The monitor's rt_sigaction (all of them with hardware virtualization,
// the failing ones on PVM) keeps the actions in the guest's table, with
// Linux's checks in Linux's order.
func TestRtSigaction(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	act, oact := scratch(t, vm, 4096), scratch(t, vm, 4096)
	usr1 := uint64(unix.SIGUSR1)
	a := sigaction{handler: 0x401000, flags: saSiginfo | saRestorer, restorer: 0x402000, mask: ^uint64(0)}
	putAction(t, vm, act, a)
	if got := call(th, sysRtSigaction, usr1, act, oact, 8); got != 0 {
		t.Fatalf("set = %d", got)
	}
	if got := getAction(t, vm, oact); got != (sigaction{}) {
		t.Errorf("old action %+v, want SIG_DFL", got)
	}
	want := a
	want.mask &^= unblockable
	if got := vm.sigtab.load(int(usr1)); got != want {
		t.Errorf("table holds %+v, want %+v (SIGKILL and SIGSTOP unmasked)", got, want)
	}

	// act and oact the same struct: the old action comes back, the new one is set.
	b := sigaction{handler: sigIgn}
	putAction(t, vm, act, b)
	if got := call(th, sysRtSigaction, usr1, act, act, 8); got != 0 || getAction(t, vm, act) != want {
		t.Errorf("swap in place = %d, %+v; want 0, %+v", got, getAction(t, vm, act), want)
	}
	if got := vm.sigtab.load(int(usr1)); got != b {
		t.Errorf("table holds %+v after the swap, want %+v", got, b)
	}

	const unmapped = 0x1000
	for _, tt := range []struct {
		name                 string
		sig, act, oact, size uint64
		want                 unix.Errno
	}{
		{"SIGKILL", uint64(unix.SIGKILL), act, 0, 8, unix.EINVAL},
		{"SIGSTOP", uint64(unix.SIGSTOP), act, 0, 8, unix.EINVAL},
		{"signal 0", 0, act, 0, 8, unix.EINVAL},
		{"signal 65", 65, act, 0, 8, unix.EINVAL},
		{"size 7", usr1, act, 0, 7, unix.EINVAL},
		{"unreadable act, before the signal is checked", 0, unmapped, 0, 8, unix.EFAULT},
		{"unreadable act", usr1, unmapped, oact, 8, unix.EFAULT},
	} {
		if got := call(th, sysRtSigaction, tt.sig, tt.act, tt.oact, tt.size); got != -int64(tt.want) {
			t.Errorf("%s = %d, want %v", tt.name, got, tt.want)
		}
	}
	if got := vm.sigtab.load(int(usr1)); got != b {
		t.Errorf("failed calls changed the action to %+v", got)
	}
	// An unwritable oact fails the call after the action is set, as in Linux.
	putAction(t, vm, act, a)
	if got := call(th, sysRtSigaction, usr1, act, unmapped, 8); got != -int64(unix.EFAULT) {
		t.Errorf("unwritable oact = %d, want EFAULT", got)
	}
	if got := vm.sigtab.load(int(usr1)); got != want {
		t.Errorf("after an unwritable oact the table holds %+v, want %+v", got, want)
	}
}

// What the guest writes into its table directly is read back as an action
// Linux could hold.
func TestSigTableSanitizes(t *testing.T) {
	vm := newFakeVM(t)
	st := vm.sigtab
	for _, sig := range []int{int(unix.SIGKILL), int(unix.SIGSTOP), int(unix.SIGUSR1)} {
		st.write(sig, sigaction{handler: 0x401000, flags: saRestorer, restorer: 0x402000, mask: ^uint64(0)})
	}
	if got := st.load(int(unix.SIGKILL)); got != (sigaction{}) {
		t.Errorf("SIGKILL reads %+v, want SIG_DFL", got)
	}
	if got := st.load(int(unix.SIGSTOP)); got != (sigaction{}) {
		t.Errorf("SIGSTOP reads %+v, want SIG_DFL", got)
	}
	if got := st.load(int(unix.SIGUSR1)); got.mask&unblockable != 0 {
		t.Errorf("SIGUSR1's mask %#x blocks SIGKILL or SIGSTOP", got.mask)
	}
}

// A guest that holds the lock forever costs a monitor thread the bound, not
// the thread: reads take the words as they are, writes go in without the
// lock.
func TestSigTableGuestHoldsLock(t *testing.T) {
	vm := newFakeVM(t)
	st := vm.sigtab
	st.wait = 5 * time.Millisecond
	usr1 := int(unix.SIGUSR1)
	a := sigaction{handler: 0x401000, flags: saRestorer, restorer: 0x402000}
	st.swap(usr1, a)
	atomic.AddUint32(st.seq(), 1) // the guest takes the lock and never gives it back

	start := time.Now()
	if got := st.load(usr1); got != a {
		t.Errorf("read %+v, want the words as they are, %+v", got, a)
	}
	b := sigaction{handler: sigIgn}
	if got := st.swap(usr1, b); got != a {
		t.Errorf("swap returned %+v, want %+v", got, a)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("two calls took %v with a bound of %v", d, st.wait)
	}
	if got := st.load(usr1); got != b {
		t.Errorf("read %+v after the swap, want %+v", got, b)
	}
	if s := atomic.LoadUint32(st.seq()); s&1 == 0 {
		t.Errorf("the monitor released a lock it did not take (sequence %d)", s)
	}
	// The guest lets go: the lock works again.
	atomic.AddUint32(st.seq(), 1)
	st.wait = time.Hour
	st.swap(usr1, a)
	if got := st.load(usr1); got != a {
		t.Errorf("read %+v, want %+v", got, a)
	}
}

// Writers on every side exclude each other and readers never see half an
// action: monitor threads swapping, a stand-in for the guest's stub taking
// the lock with its own compare-and-swap, and readers, all on one signal.
func TestSigTableConcurrent(t *testing.T) {
	vm := newFakeVM(t)
	st := vm.sigtab
	st.wait = time.Hour // correctness here, not the bound (TestSigTableGuestHoldsLock)
	sig := int(unix.SIGUSR2)
	action := func(id uint64) sigaction {
		return sigaction{handler: 0x400000 + id, flags: saRestorer | id<<32, restorer: 0x500000 + id, mask: id << 20}
	}
	consistent := func(a sigaction) bool {
		id := a.handler - 0x400000
		return a == (sigaction{}) || a == action(id)
	}
	const writers, rounds = 4, 20000
	var bad, reads atomic.Int32
	var done atomic.Bool
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for !done.Load() {
				if !consistent(st.load(sig)) {
					bad.Add(1)
				}
				reads.Add(1)
			}
		})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				id := uint64(w*rounds + i + 1)
				var prev sigaction
				if w == 0 {
					prev = stubSwap(st, sig, action(id))
				} else {
					prev = st.swap(sig, action(id))
				}
				if !consistent(prev) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	done.Store(true)
	readers.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d torn actions in %d reads and %d writes", n, reads.Load(), writers*rounds)
	}
	if s := atomic.LoadUint32(st.seq()); s != 2*writers*rounds {
		t.Errorf("sequence %d after %d writes, want %d", s, writers*rounds, 2*writers*rounds)
	}
}

// stubSwap does what the PVM stub does for rt_sigaction(sig, act, oact):
// the lock by compare-and-swap from even to odd, the swap, a plain release.
func stubSwap(st *sigTable, sig int, a sigaction) sigaction {
	seq := st.seq()
	for {
		s := atomic.LoadUint32(seq)
		if s&1 == 0 && atomic.CompareAndSwapUint32(seq, s, s+1) {
			break
		}
	}
	// (Atomic word by word only to be plain x86 moves the race detector
	// understands.)
	w := st.words(sig)
	var prev [4]uint64
	for i, v := range []uint64{a.handler, a.flags, a.restorer, a.mask} {
		prev[i] = atomic.LoadUint64(w[i])
		atomic.StoreUint64(w[i], v)
	}
	atomic.AddUint32(seq, 1)
	return sigaction{prev[0], prev[1], prev[2], prev[3]}
}

// Delivery honours what the table says: SIG_IGN drops the signal, a
// handler gets it, and SA_RESETHAND gives it to one thread only, leaving
// SIG_DFL (with the flags, as Linux) behind.
func TestDeliveryReadsTable(t *testing.T) {
	vm := newFakeVM(t)
	th := vm.fakeThread(1)
	usr1 := int(unix.SIGUSR1)
	queue := func() {
		vm.mu.Lock()
		th.pending |= sigbit(usr1)
		vm.mu.Unlock()
	}

	vm.sigtab.swap(usr1, sigaction{handler: sigIgn})
	queue()
	if sig, _, _ := th.nextSignal(); sig != 0 || vm.stopped() {
		t.Errorf("SIG_IGN: got signal %d, stopped %v", sig, vm.stopped())
	}

	h := sigaction{handler: 0x401000, flags: saRestorer | saResethand, restorer: 0x402000}
	vm.sigtab.swap(usr1, h)
	queue()
	if sig, _, act := th.nextSignal(); sig != usr1 || act != h {
		t.Errorf("handler: got signal %d, action %+v; want %d, %+v", sig, act, usr1, h)
	}
	reset := h
	reset.handler = sigDfl
	if got := vm.sigtab.load(usr1); got != reset {
		t.Errorf("after SA_RESETHAND the table holds %+v, want %+v", got, reset)
	}

	vm.sigtab.swap(usr1, h)
	var took atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if vm.sigtab.deliver(usr1).handler == h.handler {
				took.Add(1)
			}
		})
	}
	wg.Wait()
	if n := took.Load(); n != 1 {
		t.Errorf("%d deliveries took the one-shot handler, want 1", n)
	}
}

// With hardware virtualization the guest may only read its table; on PVM
// its ring-3 stub writes it. Either way the area is the monitor's: the
// guest can neither unmap nor remap it.
func TestSigTableProtection(t *testing.T) {
	for _, p := range []Platform{VTx, PVM} {
		vm := newFakeVMOn(t, p)
		pte := vm.as.Translate(sigtabVA)
		if writable := pte&x86.PTEWrite != 0; pte&x86.PTEUser == 0 || writable != (p == PVM) {
			t.Errorf("%v: table PTE %#x, user-writable %v", p, pte, writable)
		}
		if err := vm.as.Munmap(sigtabVA, guestmem.PageSize); err == nil {
			t.Errorf("%v: the guest unmapped its table", p)
		}
		if err := vm.as.Mprotect(sigtabVA, guestmem.PageSize, guestmem.ProtRead|guestmem.ProtWrite); err == nil {
			t.Errorf("%v: the guest changed its table's protection", p)
		}
	}
}
