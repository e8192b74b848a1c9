#include "textflag.h"

// func RDTSC() uint64
TEXT ·RDTSC(SB), NOSPLIT, $0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// call2 calls the function in AX with DI, SI on a 16-byte aligned stack,
// keeping the old SP in R12 (callee-saved in the SysV ABI).
#define call2 \
	MOVQ	SP, R12; \
	ANDQ	$~15, SP; \
	CALL	AX; \
	MOVQ	R12, SP

// func CallIntPtr(fn, a0 uintptr, a1 unsafe.Pointer) uintptr
TEXT ·CallIntPtr(SB), NOSPLIT, $32-32
	MOVQ	fn+0(FP), AX
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	call2
	MOVQ	AX, ret+24(FP)
	RET

// func CallPtrPtr(fn uintptr, a0, a1 unsafe.Pointer) uintptr
TEXT ·CallPtrPtr(SB), NOSPLIT, $32-32
	MOVQ	fn+0(FP), AX
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	call2
	MOVQ	AX, ret+24(FP)
	RET
