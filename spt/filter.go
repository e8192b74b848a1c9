package spt

import (
	"fmt"
	"sort"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// ImageFD is the descriptor the child execs the image from.
const ImageFD = 3

// check is one test of a system call argument; all checks of a rule must
// hold for the rule to allow the call.
type check struct {
	arg int // 0..5
	// "none": no bit of val set; "all": every bit of val set; "eq": equal
	// to val; "eq32", "ne32": the low 32 bits equal or differ from val.
	// The 32-bit kinds are for int arguments (descriptors, commands): the
	// kernel reads only their low half, and a caller may leave garbage in
	// the high one (Go's runtime does).
	kind string
	val  uint64
}

// rule says how the filter treats one system call: allowed when any of
// allow's check lists holds (or unconditionally when allow is empty and
// deny is 0), else failing with deny.
type rule struct {
	allow [][]check
	deny  abi.Errno
}

// Rules derives the filter's rules from the ABI table for an image that
// runs as process pid with devices devs.
func Rules(pid int, devs []abi.Device) (map[int]rule, error) {
	rules := map[int]rule{}
	for _, s := range abi.Table {
		switch s.Status {
		case abi.Refused:
			rules[s.Nr] = rule{deny: s.Errno}
		case abi.Supported, abi.Partial:
			rules[s.Nr] = rule{}
		default:
			return nil, fmt.Errorf("spt: %s has status %s", s.Name, s.Status)
		}
	}
	// Narrowed by their arguments, where that closes a door.
	rules[abi.SysMmap] = rule{[][]check{{{2, "none", unix.PROT_EXEC}, {3, "all", unix.MAP_ANONYMOUS}}}, abi.EACCES}
	rules[abi.SysMprotect] = rule{[][]check{{{2, "none", unix.PROT_EXEC}}}, abi.EACCES}
	rules[abi.SysClone] = rule{[][]check{{{0, "all", unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}}}, abi.EPERM}
	rules[abi.SysKill] = rule{[][]check{{{0, "eq", uint64(pid)}}, {{0, "eq", 0}}}, abi.EPERM}
	rules[abi.SysTgkill] = rule{[][]check{{{0, "eq", uint64(pid)}}}, abi.EPERM}
	rules[abi.SysPrlimit64] = rule{[][]check{{{0, "eq", 0}}}, abi.EPERM}
	rules[abi.SysBrk] = rule{deny: abi.ENOMEM} // no program break, as in a VM
	// The one exec: the image, from its close-on-exec descriptor.
	rules[abi.SysExecveat] = rule{[][]check{{{0, "eq", ImageFD}, {4, "eq", unix.AT_EMPTY_PATH}}}, abi.EACCES}
	deviceRules(rules, devs)
	return rules, nil
}

// deviceRules confine descriptor calls. The image inherits the console
// (0, 1, 2) and its devices; every other descriptor it has, it made
// itself (eventfd2, pipe2, epoll_create1), since nothing else that makes
// one is allowed. So: no reading the console's output side, no writing
// its input, disk calls on disks only, writes on writable disks only.
func deviceRules(rules map[int]rule, devs []abi.Device) {
	rules[abi.SysRead] = rule{[][]check{{{0, "ne32", 1}, {0, "ne32", 2}}}, abi.EBADF}
	rules[abi.SysWrite] = rule{[][]check{{{0, "ne32", 0}}}, abi.EBADF}
	var disks, writable [][]check
	for _, d := range devs {
		if d.Kind != abi.BlockDevice {
			continue
		}
		disks = append(disks, []check{{0, "eq32", uint64(d.FD)}})
		if !d.ReadOnly {
			writable = append(writable, []check{{0, "eq32", uint64(d.FD)}})
		}
	}
	rules[abi.SysPread64] = rule{disks, abi.EBADF}
	rules[abi.SysPwrite64] = rule{writable, abi.EBADF}
	rules[abi.SysFsync] = rule{disks, abi.EINVAL}
	rules[abi.SysFdatasync] = rule{disks, abi.EINVAL}
	var fcntl [][]check
	for _, cmd := range []uint64{unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL} {
		fcntl = append(fcntl, []check{{1, "eq32", cmd}})
	}
	rules[abi.SysFcntl] = rule{fcntl, abi.EINVAL}
}

// struct seccomp_data offsets.
const (
	dataNr   = 0
	dataArch = 4
	dataArgs = 16
)

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retErrno = unix.SECCOMP_RET_ERRNO
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

// Program compiles rules to a seccomp BPF program: a wrong architecture
// kills, the x32 ABI and unlisted calls get ENOSYS, and each listed call
// jumps to a block of its own that ends in a return.
func Program(rules map[int]rule) ([]bpf.RawInstruction, error) {
	nrs := make([]int, 0, len(rules))
	for nr := range rules {
		nrs = append(nrs, nr)
	}
	sort.Ints(nrs)
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: dataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AUDIT_ARCH_X86_64, SkipTrue: 1},
		bpf.RetConstant{Val: retKill},
		bpf.LoadAbsolute{Off: dataNr, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 0x40000000, SkipFalse: 1}, // x32
		bpf.RetConstant{Val: retErrno | uint32(abi.ENOSYS)},
	}
	// Dispatch: jeq nr → fall into "ja block"; else skip it.
	dispatch := len(prog)
	for range nrs {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, SkipFalse: 1}, bpf.Jump{})
	}
	prog = append(prog, bpf.RetConstant{Val: retErrno | uint32(abi.ENOSYS)})
	for i, nr := range nrs {
		jeq := dispatch + 2*i
		prog[jeq] = bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: 1}
		prog[jeq+1] = bpf.Jump{Skip: uint32(len(prog) - (jeq + 2))}
		prog = append(prog, block(rules[nr])...)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("spt: assemble filter: %w", err)
	}
	return raw, nil
}

// block is the code for one call: each check list in turn, allowing on
// the first that holds, then the refusal.
func block(r rule) []bpf.Instruction {
	deny := bpf.RetConstant{Val: retErrno | uint32(r.deny)}
	if len(r.allow) == 0 {
		if r.deny != 0 {
			return []bpf.Instruction{deny}
		}
		return []bpf.Instruction{bpf.RetConstant{Val: retAllow}}
	}
	var out []bpf.Instruction
	for _, checks := range r.allow {
		var body []bpf.Instruction
		// Each failing test jumps past this list's "allow" to the next list.
		var fails []int
		for _, c := range checks {
			lo := uint32(dataArgs + 8*c.arg)
			switch c.kind {
			case "none":
				body = append(body, bpf.LoadAbsolute{Off: lo, Size: 4})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: uint32(c.val)})
			case "all":
				body = append(body, bpf.LoadAbsolute{Off: lo, Size: 4},
					bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: uint32(c.val)})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(c.val)})
			case "ne32":
				// Equal low halves fail; anything else passes.
				body = append(body, bpf.LoadAbsolute{Off: lo, Size: 4})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(c.val)})
			case "eq32":
				body = append(body, bpf.LoadAbsolute{Off: lo, Size: 4})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(c.val)})
			case "eq":
				body = append(body, bpf.LoadAbsolute{Off: lo, Size: 4})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(c.val)},
					bpf.LoadAbsolute{Off: lo + 4, Size: 4})
				fails = append(fails, len(body))
				body = append(body, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(c.val >> 32)})
			}
		}
		body = append(body, bpf.RetConstant{Val: retAllow})
		for _, f := range fails {
			j := body[f].(bpf.JumpIf)
			j.SkipTrue = uint8(len(body) - (f + 1))
			body[f] = j
		}
		out = append(out, body...)
	}
	return append(out, deny)
}

// Lock sets no_new_privs, applies Landlock where the kernel has it, and
// loads the filter on every thread of the calling process.
func Lock(raw []bpf.RawInstruction) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("spt: no_new_privs: %w", err)
	}
	if _, err := landlock(); err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return load(filter)
}
