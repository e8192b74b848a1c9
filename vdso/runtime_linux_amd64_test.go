package vdso

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

// TestGoRuntimeUsesVDSO covers the real runtime path: it starts this test
// binary as a traced child, stopped before its first instruction, maps
// our data page and image into it, points AT_SYSINFO_EHDR in its auxiliary
// vector at the image, and lets it run. The child's Go runtime then parses
// the image itself; its time.Now, nanotime and syscall.Gettimeofday must
// show the offsets written into our data page, unlike the raw syscalls.

const childEnv = "MORGANA_VDSO_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		reportClocks()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

//go:linkname vdsoGettimeofdaySym runtime.vdsoGettimeofdaySym
var vdsoGettimeofdaySym uintptr

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// reportClocks runs in the child: each vDSO reading next to the syscall's.
func reportClocks() {
	var sysReal, sysMono unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &sysReal)
	real := time.Now().UnixNano()
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &sysMono)
	mono := nanotime()
	var tv syscall.Timeval
	syscall.Gettimeofday(&tv)
	fmt.Println(vdsoGettimeofdaySym, sysReal.Nano(), real, sysMono.Nano(), mono, tv.Nano())
}

func TestGoRuntimeUsesVDSO(t *testing.T) {
	const dMono, dReal = int64(7 * time.Second), int64(24 * time.Hour)
	c := calibrate(t)
	c.MonoBase += dMono
	c.RealOffset += dReal - dMono

	runtime.LockOSThread() // ptrace requests must come from the tracer thread
	defer runtime.UnlockOSThread()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a traced child: %v", err)
	}
	pid := cmd.Process.Pid
	detached := false
	defer func() {
		if !detached {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	waitTrap(t, pid) // stopped after execve, before any user instruction

	var regs unix.PtraceRegs
	check(t, unix.PtraceGetRegs(pid, &regs))
	base := injectMmap(t, pid, regs)
	mem := make([]byte, Size())
	Store(mem[:DataSize], c)
	copy(mem[DataSize:], Image())
	_, err := unix.PtracePokeData(pid, base, mem)
	check(t, err)
	setAuxv(t, pid, uintptr(regs.Rsp), 33 /* AT_SYSINFO_EHDR */, uint64(base+DataSize))
	check(t, unix.PtraceDetach(pid))
	detached = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.Bytes())
	}

	var gtod uintptr
	var sysReal, real, sysMono, mono, tv int64
	if _, err := fmt.Sscan(out.String(), &gtod, &sysReal, &real, &sysMono, &mono, &tv); err != nil {
		t.Fatalf("child output %q: %v", out.String(), err)
	}
	f, _ := parseImage(t)
	syms, _ := f.DynamicSymbols()
	for _, s := range syms {
		if s.Name == "__vdso_gettimeofday" && gtod != base+DataSize+uintptr(s.Value) {
			t.Errorf("runtime found __vdso_gettimeofday at %#x, want %#x", gtod, base+DataSize+uintptr(s.Value))
		}
	}
	within(t, "time.Now - CLOCK_REALTIME syscall", real-sysReal, dReal, dReal)
	within(t, "nanotime - CLOCK_MONOTONIC syscall", mono-sysMono, dMono, dMono)
	within(t, "syscall.Gettimeofday - CLOCK_REALTIME syscall", tv-sysReal, dReal, dReal)
	t.Logf("child: vDSO-syscall realtime %+d ns, monotonic %+d ns", real-sysReal-dReal, mono-sysMono-dMono)
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitTrap(t *testing.T, pid int) {
	t.Helper()
	var ws unix.WaitStatus
	_, err := unix.Wait4(pid, &ws, 0, nil)
	check(t, err)
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		t.Fatalf("child status %#x, want a SIGTRAP stop", ws)
	}
}

// injectMmap makes the stopped child mmap Size() bytes read+execute, by
// single-stepping a syscall instruction planted at its PC, and restores
// its code and registers.
func injectMmap(t *testing.T, pid int, regs unix.PtraceRegs) uintptr {
	pc := uintptr(regs.Rip)
	code := make([]byte, 2)
	_, err := unix.PtracePeekData(pid, pc, code)
	check(t, err)
	_, err = unix.PtracePokeData(pid, pc, []byte{0x0f, 0x05}) // syscall
	check(t, err)
	r := regs
	r.Orig_rax = ^uint64(0) // not in a system call: no restart handling
	r.Rax, r.Rdi, r.Rsi = unix.SYS_MMAP, 0, uint64(Size())
	r.Rdx, r.R10, r.R8, r.R9 = unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0
	check(t, unix.PtraceSetRegs(pid, &r))
	check(t, unix.PtraceSingleStep(pid))
	waitTrap(t, pid)
	check(t, unix.PtraceGetRegs(pid, &r))
	if int64(r.Rax) < 0 && int64(r.Rax) > -4096 {
		t.Fatalf("mmap in child: errno %d", -int64(r.Rax))
	}
	_, err = unix.PtracePokeData(pid, pc, code)
	check(t, err)
	check(t, unix.PtraceSetRegs(pid, &regs))
	return uintptr(r.Rax)
}

// setAuxv rewrites the value of auxiliary vector entry tag on the initial
// stack at sp: argc, argv..., 0, envp..., 0, (tag, value)..., AT_NULL.
func setAuxv(t *testing.T, pid int, sp uintptr, tag, val uint64) {
	word := func(addr uintptr) uint64 {
		var b [8]byte
		_, err := unix.PtracePeekData(pid, addr, b[:])
		check(t, err)
		return binary.LittleEndian.Uint64(b[:])
	}
	p := sp + 8*uintptr(word(sp)+2) // past argc, argv and its NULL
	for word(p) != 0 {
		p += 8
	}
	for p += 8; word(p) != 0; p += 16 {
		if word(p) == tag {
			_, err := unix.PtracePokeData(pid, p+8, binary.LittleEndian.AppendUint64(nil, val))
			check(t, err)
			return
		}
	}
	t.Skip("no AT_SYSINFO_EHDR in the child's auxiliary vector (kernel booted with vdso=0?)")
}
