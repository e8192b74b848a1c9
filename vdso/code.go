package vdso

import "fmt"

// The guest code, hand-encoded x86-64 (this file is not amd64-only: the
// monitor may be built anywhere, the guest is always x86-64).
//
// SysV ABI: arguments in rdi, rsi; result in rax. Only rax, rcx, rdx, r8-r11
// are written, and no stack beyond the return address is used (the Go
// runtime calls in on small g0/gsignal stacks, syscall.Gettimeofday even
// on a goroutine stack). rdi/rsi stay intact so every fallback can issue
// the real system call with the caller's arguments.

// Linux system call numbers used by the fallbacks.
const (
	sysGettimeofday = 96
	sysTime         = 201
	sysClockGettime = 228
	sysClockGetres  = 229
)

// Clock ids served from the data page, as bit masks over the id.
const (
	servedClocks   = 1<<0 | 1<<1 | 1<<4 | 1<<5 | 1<<6 | 1<<7 // REALTIME, MONOTONIC, MONOTONIC_RAW, REALTIME_COARSE, MONOTONIC_COARSE, BOOTTIME
	realtimeClocks = 1<<0 | 1<<5                             // REALTIME, REALTIME_COARSE
)

// assembleText returns the assembled (unlinked) guest code.
func assembleText() *assembler {
	a := newAssembler()
	clockGettime(a)
	gettimeofday(a)
	timeFunc(a)
	clockGetres(a)
	return a
}

// checkClockID jumps to "syscall" unless edi is one of servedClocks.
func checkClockID(a *assembler) {
	a.op("cmp edi, 0x7", 0x83, 0xff, 0x07)
	a.jump("jnbe", "syscall") // unsigned: negative ids (CPU clocks) too
	a.op("mov eax, 0xf3", 0xb8, servedClocks, 0, 0, 0)
	a.op("bt eax, edi", 0x0f, 0xa3, 0xf8)
	a.jump("jnb", "syscall")
}

// readNanos leaves in rax the nanoseconds of CLOCK_MONOTONIC, plus
// RealOffset where r11 is all ones (r11 must be 0 or -1). It jumps to
// "syscall" if the clock is unset. Clobbers rcx, rdx, r8, r9, r10.
func readNanos(a *assembler) {
	a.leaData()
	a.label("retry")
	a.op("mov r9d, dword ptr [r8]", 0x45, 0x8b, 0x08) // seq
	a.op("test r9b, 0x1", 0x41, 0xf6, 0xc1, 0x01)
	a.jump("jnz", "spin") // writer active
	a.op("mov r10d, dword ptr [r8+0x18]", 0x45, 0x8b, 0x50, offMult)
	a.op("test r10d, r10d", 0x45, 0x85, 0xd2)
	a.jump("jz", "syscall") // clock not set yet
	a.op("mov ecx, dword ptr [r8+0x1c]", 0x41, 0x8b, 0x48, offShift)
	a.op("lfence", 0x0f, 0xae, 0xe8) // rdtsc not before the seq load
	a.op("rdtsc", 0x0f, 0x31)
	a.op("shl rdx, 0x20", 0x48, 0xc1, 0xe2, 0x20)
	a.op("or rax, rdx", 0x48, 0x09, 0xd0)
	a.op("sub rax, qword ptr [r8+0x8]", 0x49, 0x2b, 0x40, offTSCBase)
	a.jump("jnb", "ahead")
	a.op("xor eax, eax", 0x31, 0xc0) // TSC behind TSCBase: delta 0
	a.label("ahead")
	a.op("mul r10", 0x49, 0xf7, 0xe2)                 // rdx:rax = delta*Mult
	a.op("shrd rax, rdx, cl", 0x48, 0x0f, 0xad, 0xd0) // >> Shift
	a.op("add rax, qword ptr [r8+0x10]", 0x49, 0x03, 0x40, offMonoBase)
	a.op("mov rdx, qword ptr [r8+0x20]", 0x49, 0x8b, 0x50, offRealOffset)
	a.op("and rdx, r11", 0x4c, 0x21, 0xda)
	a.op("add rax, rdx", 0x48, 0x01, 0xd0)
	a.op("cmp r9d, dword ptr [r8]", 0x45, 0x3b, 0x08) // loads stay in order on x86
	a.jump("jnz", "retry")
}

// spin is the out-of-line wait while the monitor writes the page.
func spin(a *assembler) {
	a.label("spin")
	a.op("pause", 0xf3, 0x90)
	a.jump("jmp", "retry")
}

// splitSeconds turns nanoseconds in rax into seconds in rax and
// nanoseconds in [0, 1e9) in rdx, rounding toward minus infinity so that
// times before 1970 come out normalized. Clobbers rcx.
func splitSeconds(a *assembler) {
	a.op("mov ecx, 0x3b9aca00", 0xb9, 0x00, 0xca, 0x9a, 0x3b) // 1e9
	a.op("cqo", 0x48, 0x99)
	a.op("idiv rcx", 0x48, 0xf7, 0xf9)
	a.op("test rdx, rdx", 0x48, 0x85, 0xd2)
	a.jump("jns", "split")
	a.op("add rdx, rcx", 0x48, 0x01, 0xca)
	a.op("dec rax", 0x48, 0xff, 0xc8)
	a.label("split")
}

// fallback makes the real system call; the arguments are still in rdi, rsi.
func fallback(a *assembler, nr byte) {
	a.label("syscall")
	a.op(fmt.Sprintf("mov eax, %#x", nr), 0xb8, nr, 0, 0, 0)
	a.op("syscall", 0x0f, 0x05)
	a.op("ret", 0xc3)
}

// int __vdso_clock_gettime(clockid_t id /* edi */, struct timespec *ts /* rsi */)
func clockGettime(a *assembler) {
	a.begin("__vdso_clock_gettime")
	checkClockID(a)
	a.op("mov eax, 0x21", 0xb8, realtimeClocks, 0, 0, 0)
	a.op("bt eax, edi", 0x0f, 0xa3, 0xf8)
	a.op("sbb r11, r11", 0x4d, 0x19, 0xdb) // -1 for realtime clocks
	readNanos(a)
	splitSeconds(a)
	a.op("mov qword ptr [rsi], rax", 0x48, 0x89, 0x06)
	a.op("mov qword ptr [rsi+0x8], rdx", 0x48, 0x89, 0x56, 0x08)
	a.op("xor eax, eax", 0x31, 0xc0)
	a.op("ret", 0xc3)
	spin(a)
	fallback(a, sysClockGettime)
	a.end()
}

// int __vdso_gettimeofday(struct timeval *tv /* rdi */, struct timezone *tz /* rsi */)
func gettimeofday(a *assembler) {
	a.begin("__vdso_gettimeofday")
	a.op("test rsi, rsi", 0x48, 0x85, 0xf6)
	a.jump("jz", "tv")
	a.op("mov qword ptr [rsi], 0x0", 0x48, 0xc7, 0x06, 0, 0, 0, 0) // UTC, no DST
	a.label("tv")
	a.op("test rdi, rdi", 0x48, 0x85, 0xff)
	a.jump("jz", "done")
	a.op("mov r11, -0x1", 0x49, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff)
	readNanos(a)
	splitSeconds(a)
	a.op("mov qword ptr [rdi], rax", 0x48, 0x89, 0x07)
	a.op("mov rax, rdx", 0x48, 0x89, 0xd0)
	a.op("xor edx, edx", 0x31, 0xd2)
	a.op("mov ecx, 0x3e8", 0xb9, 0xe8, 0x03, 0, 0) // 1000
	a.op("div rcx", 0x48, 0xf7, 0xf1)
	a.op("mov qword ptr [rdi+0x8], rax", 0x48, 0x89, 0x47, 0x08)
	a.label("done")
	a.op("xor eax, eax", 0x31, 0xc0)
	a.op("ret", 0xc3)
	spin(a)
	fallback(a, sysGettimeofday)
	a.end()
}

// time_t __vdso_time(time_t *t /* rdi */)
func timeFunc(a *assembler) {
	a.begin("__vdso_time")
	a.op("mov r11, -0x1", 0x49, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff)
	readNanos(a)
	splitSeconds(a)
	a.op("test rdi, rdi", 0x48, 0x85, 0xff)
	a.jump("jz", "done")
	a.op("mov qword ptr [rdi], rax", 0x48, 0x89, 0x07)
	a.label("done")
	a.op("ret", 0xc3)
	spin(a)
	fallback(a, sysTime)
	a.end()
}

// int __vdso_clock_getres(clockid_t id /* edi */, struct timespec *res /* rsi */)
//
// The served clocks are all TSC-based, so their resolution is 1ns.
func clockGetres(a *assembler) {
	a.begin("__vdso_clock_getres")
	checkClockID(a)
	a.op("test rsi, rsi", 0x48, 0x85, 0xf6)
	a.jump("jz", "done")
	a.op("mov qword ptr [rsi], 0x0", 0x48, 0xc7, 0x06, 0, 0, 0, 0)
	a.op("mov qword ptr [rsi+0x8], 0x1", 0x48, 0xc7, 0x46, 0x08, 1, 0, 0, 0)
	a.label("done")
	a.op("xor eax, eax", 0x31, 0xc0)
	a.op("ret", 0xc3)
	fallback(a, sysClockGetres)
	a.end()
}
