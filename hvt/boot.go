package hvt

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/morgana-os/morgana/guestmem"
	"github.com/morgana-os/morgana/vdso"
	"github.com/morgana-os/morgana/x86"
)

// mapKernel builds the pages every vCPU shares: the IDT and the stubs.
func (vm *VM) mapKernel() error {
	idt, err := vm.kernelPage(idtVA, false)
	if err != nil {
		return err
	}
	x86.PutIDT(idt, func(v int) uint64 { return kernelStubVA + uint64(v)*x86.ExceptionStubSize })
	stubs, err := vm.kernelPage(kernelStubVA, false)
	if err != nil {
		return err
	}
	for v := 0; v < x86.Vectors; v++ {
		copy(stubs[v*x86.ExceptionStubSize:], x86.ExceptionStub(v))
	}
	copy(stubs[kernelSyscallOff:], x86.SyscallStubKernel)

	if err := vm.as.MapFixed(userStubVA, userStubVA+guestmem.PageSize, guestmem.ProtRead|guestmem.ProtExec, "[stub]", true); err != nil {
		return err
	}
	if err := vm.mapSigTable(); err != nil {
		return err
	}
	return vm.as.Load(userStubVA, x86.SigactionStub(userStubVA, sigtabVA))
}

// mapSigTable maps the page that holds the signal actions (sigTable), all
// SIG_DFL to begin with, with the access the platform's syscall stub needs
// (Platform.sigTableProt). The area is locked: the guest can neither unmap
// nor remap it, so its frame stays the one the monitor reads.
func (vm *VM) mapSigTable() error {
	prot := vm.platform.sigTableProt()
	if err := vm.as.MapFixed(sigtabVA, sigtabVA+guestmem.PageSize, prot, "[sigactions]", true); err != nil {
		return fmt.Errorf("signal table: %w", err)
	}
	vm.sigtab = &sigTable{page: vm.as.HostPage(sigtabVA), wait: sigTableWait, log: vm.log}
	return nil
}

// kernelPage maps a fresh supervisor page at va and returns its host view.
func (vm *VM) kernelPage(va uint64, writable bool) ([]byte, error) {
	gpa, err := vm.phys.Alloc()
	if err != nil {
		return nil, err
	}
	if err := vm.as.MapKernel(va, gpa, writable); err != nil {
		return nil, err
	}
	return vm.phys.Page(gpa), nil
}

// loadImage maps the image's segments and copies their file bytes.
func (vm *VM) loadImage() error {
	for _, s := range vm.image.Segments {
		start := s.Vaddr &^ (guestmem.PageSize - 1)
		end := roundUp(s.Vaddr+s.Memsz, guestmem.PageSize)
		fileEnd := roundUp(s.Vaddr+uint64(len(s.Data)), guestmem.PageSize)
		if err := vm.as.MapSegment(start, fileEnd, end, guestmem.Prot(s.Prot), "[image]"); err != nil {
			return fmt.Errorf("load %s: segment at %#x: %w", vm.cfg.Image, s.Vaddr, err)
		}
		if err := vm.as.Load(s.Vaddr, s.Data); err != nil {
			return fmt.Errorf("load %s: segment at %#x: %w", vm.cfg.Image, s.Vaddr, err)
		}
	}
	return nil
}

// mapVDSO maps the vDSO's data page (read-only) and code.
func (vm *VM) mapVDSO() error {
	img := vdso.Image()
	code := uint64(vdsoVA + vdso.DataSize)
	if err := vm.as.MapFixed(vdsoVA, code, guestmem.ProtRead, "[vvar]", true); err != nil {
		return fmt.Errorf("vdso: %w", err)
	}
	if err := vm.as.MapFixed(code, code+uint64(len(img)), guestmem.ProtRead|guestmem.ProtExec, "[vdso]", true); err != nil {
		return fmt.Errorf("vdso: %w", err)
	}
	return vm.as.Load(code, img)
}

// Auxiliary vector keys (linux/auxvec.h).
const (
	atNull         = 0
	atPhdr         = 3
	atPhent        = 4
	atPhnum        = 5
	atPagesz       = 6
	atBase         = 7
	atFlags        = 8
	atEntry        = 9
	atUID          = 11
	atEUID         = 12
	atGID          = 13
	atEGID         = 14
	atPlatform     = 15
	atHWCap        = 16
	atClkTck       = 17
	atSecure       = 23
	atRandom       = 25
	atExecFn       = 31
	atSysinfoEhdr  = 33
	atMinSigStkSz  = 51
	platformString = "x86_64"
)

// buildStack maps the initial stack and lays out argc, argv, envp and the
// auxiliary vector as the System V ABI and Linux's execve do.
func (vm *VM) buildStack() (uint64, error) {
	if err := vm.as.MapFixed(stackTop-stackSize, stackTop, guestmem.ProtRead|guestmem.ProtWrite, "[stack]", false); err != nil {
		return 0, fmt.Errorf("stack: %w", err)
	}
	var strs []byte
	size := 0
	for _, s := range append(append([]string(nil), vm.cfg.Argv...), vm.cfg.Env...) {
		size += len(s) + 1
	}
	if size > maxArgBytes {
		return 0, fmt.Errorf("arguments and environment take %d bytes, more than %d", size, maxArgBytes)
	}
	// Strings go at the top; their addresses are known once the block's
	// size is.
	var offs []int
	add := func(s string) {
		offs = append(offs, len(strs))
		strs = append(strs, s...)
		strs = append(strs, 0)
	}
	for _, s := range vm.cfg.Argv {
		add(s)
	}
	for _, s := range vm.cfg.Env {
		add(s)
	}
	add(platformString)
	add(vm.cfg.Argv[0])
	random := make([]byte, 16)
	rand.Read(random)
	offs = append(offs, len(strs))
	strs = append(strs, random...)

	strBase := (stackTop - 16 - uint64(len(strs))) &^ 15
	addr := func(i int) uint64 { return strBase + uint64(offs[i]) }
	nargs, nenv := len(vm.cfg.Argv), len(vm.cfg.Env)
	words := []uint64{uint64(nargs)}
	for i := 0; i < nargs; i++ {
		words = append(words, addr(i))
	}
	words = append(words, 0)
	for i := 0; i < nenv; i++ {
		words = append(words, addr(nargs+i))
	}
	words = append(words, 0)
	hwcap := uint64(0)
	if e, ok := vm.cpuidLeaf(1, 0); ok {
		hwcap = uint64(e.EDX)
	}
	auxv := [][2]uint64{
		{atPhdr, vm.image.Phdr}, {atPhent, vm.image.Phent}, {atPhnum, vm.image.Phnum},
		{atPagesz, guestmem.PageSize}, {atBase, 0}, {atFlags, 0}, {atEntry, vm.image.Entry},
		{atUID, 0}, {atEUID, 0}, {atGID, 0}, {atEGID, 0},
		{atPlatform, addr(nargs + nenv)}, {atHWCap, hwcap}, {atClkTck, 100}, {atSecure, 0},
		{atRandom, addr(nargs + nenv + 2)}, {atExecFn, addr(nargs + nenv + 1)},
		{atSysinfoEhdr, vdsoVA + vdso.DataSize}, {atMinSigStkSz, uint64(sigFrameSize + vm.xsaveSize + 64)},
		{atNull, 0},
	}
	for _, kv := range auxv {
		words = append(words, kv[0], kv[1])
	}
	sp := (strBase - uint64(len(words))*8) &^ 15
	buf := make([]byte, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(buf[i*8:], w)
	}
	if err := vm.as.Load(sp, buf); err != nil {
		return 0, err
	}
	return sp, vm.as.Load(strBase, strs)
}
