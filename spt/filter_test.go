package spt

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// The filter runs here in x/net/bpf's interpreter on seccomp_data built
// by hand: every rule is checked without loading anything into a kernel.
func TestFilter(t *testing.T) {
	const pid = 4242
	devs := []abi.Device{
		{Kind: abi.NetDevice, Name: "service", FD: 4},
		{Kind: abi.BlockDevice, Name: "storage", FD: 5},
		{Kind: abi.BlockDevice, Name: "config", FD: 6, ReadOnly: true},
	}
	rules, err := Rules(pid, devs)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Program(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 4096 {
		t.Fatalf("%d instructions, more than seccomp's 4096", len(raw))
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("the program does not disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	errno := func(e abi.Errno) uint32 { return retErrno | uint32(e) }
	const rw, rwx = unix.PROT_READ | unix.PROT_WRITE, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC
	anon := uint64(unix.MAP_PRIVATE | unix.MAP_ANONYMOUS)
	threads := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS)
	tests := []struct {
		name string
		arch uint32
		nr   int
		args []uint64
		want uint32
	}{
		{"write", unix.AUDIT_ARCH_X86_64, abi.SysWrite, []uint64{1, 0, 5}, retAllow},
		{"write a frame", unix.AUDIT_ARCH_X86_64, abi.SysWrite, []uint64{4, 0, 60}, retAllow},
		{"write stdin", unix.AUDIT_ARCH_X86_64, abi.SysWrite, []uint64{0, 0, 5}, errno(abi.EBADF)},
		{"write stdin+2^32", unix.AUDIT_ARCH_X86_64, abi.SysWrite, []uint64{1 << 32, 0, 5}, errno(abi.EBADF)},
		{"read stdout", unix.AUDIT_ARCH_X86_64, abi.SysRead, []uint64{1, 0, 5}, errno(abi.EBADF)},
		{"read stderr", unix.AUDIT_ARCH_X86_64, abi.SysRead, []uint64{2, 0, 5}, errno(abi.EBADF)},
		{"read a frame", unix.AUDIT_ARCH_X86_64, abi.SysRead, []uint64{4, 0, 1514}, retAllow},
		{"pread disk", unix.AUDIT_ARCH_X86_64, abi.SysPread64, []uint64{5, 0, 512, 0}, retAllow},
		{"pread read-only disk", unix.AUDIT_ARCH_X86_64, abi.SysPread64, []uint64{6, 0, 512, 0}, retAllow},
		{"pread nic", unix.AUDIT_ARCH_X86_64, abi.SysPread64, []uint64{4, 0, 512, 0}, errno(abi.EBADF)},
		{"pread disk+2^32 (the kernel reads an int)", unix.AUDIT_ARCH_X86_64, abi.SysPread64, []uint64{5 | 1<<32, 0, 512, 0}, retAllow},
		{"pwrite disk", unix.AUDIT_ARCH_X86_64, abi.SysPwrite64, []uint64{5, 0, 512, 0}, retAllow},
		{"pwrite read-only disk", unix.AUDIT_ARCH_X86_64, abi.SysPwrite64, []uint64{6, 0, 512, 0}, errno(abi.EBADF)},
		{"pwrite stdout", unix.AUDIT_ARCH_X86_64, abi.SysPwrite64, []uint64{1, 0, 512, 0}, errno(abi.EBADF)},
		{"fsync disk", unix.AUDIT_ARCH_X86_64, abi.SysFdatasync, []uint64{5}, retAllow},
		{"fsync other", unix.AUDIT_ARCH_X86_64, abi.SysFsync, []uint64{1}, errno(abi.EINVAL)},
		{"fcntl getfl", unix.AUDIT_ARCH_X86_64, abi.SysFcntl, []uint64{4, unix.F_GETFL}, retAllow},
		{"fcntl dupfd", unix.AUDIT_ARCH_X86_64, abi.SysFcntl, []uint64{0, unix.F_DUPFD, 10}, errno(abi.EINVAL)},
		{"rseq (glibc threads of morgana's own child)", unix.AUDIT_ARCH_X86_64, abi.SysRseq, nil, retAllow},
		{"fcntl getfd, garbage above the int", unix.AUDIT_ARCH_X86_64, abi.SysFcntl, []uint64{0, unix.F_GETFD | 0xdead<<32}, retAllow},
		{"anonymous rw mmap", unix.AUDIT_ARCH_X86_64, abi.SysMmap, []uint64{0, 4096, rw, anon}, retAllow},
		{"executable mmap", unix.AUDIT_ARCH_X86_64, abi.SysMmap, []uint64{0, 4096, rwx, anon}, errno(abi.EACCES)},
		{"file mmap", unix.AUDIT_ARCH_X86_64, abi.SysMmap, []uint64{0, 4096, rw, unix.MAP_PRIVATE, 3}, errno(abi.EACCES)},
		{"mprotect exec", unix.AUDIT_ARCH_X86_64, abi.SysMprotect, []uint64{0x1000, 4096, rwx}, errno(abi.EACCES)},
		{"mprotect rw", unix.AUDIT_ARCH_X86_64, abi.SysMprotect, []uint64{0x1000, 4096, rw}, retAllow},
		{"thread", unix.AUDIT_ARCH_X86_64, abi.SysClone, []uint64{threads}, retAllow},
		{"vfork-style clone", unix.AUDIT_ARCH_X86_64, abi.SysClone, []uint64{unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)}, errno(abi.EPERM)},
		{"kill self", unix.AUDIT_ARCH_X86_64, abi.SysKill, []uint64{pid, 15}, retAllow},
		{"kill group 0", unix.AUDIT_ARCH_X86_64, abi.SysKill, []uint64{0, 15}, retAllow},
		{"kill other", unix.AUDIT_ARCH_X86_64, abi.SysKill, []uint64{1, 9}, errno(abi.EPERM)},
		{"kill pid+2^32", unix.AUDIT_ARCH_X86_64, abi.SysKill, []uint64{pid | 1<<32, 9}, errno(abi.EPERM)},
		{"tgkill self", unix.AUDIT_ARCH_X86_64, abi.SysTgkill, []uint64{pid, pid + 1, 23}, retAllow},
		{"tgkill other", unix.AUDIT_ARCH_X86_64, abi.SysTgkill, []uint64{1, 1, 9}, errno(abi.EPERM)},
		{"exec the image", unix.AUDIT_ARCH_X86_64, abi.SysExecveat, []uint64{ImageFD, 0, 0, 0, unix.AT_EMPTY_PATH}, retAllow},
		{"exec by path", unix.AUDIT_ARCH_X86_64, abi.SysExecveat, []uint64{uint64(0xffffff9c), 0, 0, 0, 0}, errno(abi.EACCES)},
		{"exec another fd", unix.AUDIT_ARCH_X86_64, abi.SysExecveat, []uint64{4, 0, 0, 0, unix.AT_EMPTY_PATH}, errno(abi.EACCES)},
		{"execve", unix.AUDIT_ARCH_X86_64, abi.SysExecve, nil, errno(abi.EACCES)},
		{"openat", unix.AUDIT_ARCH_X86_64, abi.SysOpenat, nil, errno(abi.ENOENT)},
		{"socket", unix.AUDIT_ARCH_X86_64, abi.SysSocket, nil, errno(abi.EACCES)},
		{"ptrace", unix.AUDIT_ARCH_X86_64, abi.SysPtrace, nil, errno(abi.EPERM)},
		{"brk", unix.AUDIT_ARCH_X86_64, abi.SysBrk, nil, errno(abi.ENOMEM)},
		{"unlisted (bpf)", unix.AUDIT_ARCH_X86_64, 321, nil, errno(abi.ENOSYS)},
		{"x32 ABI", unix.AUDIT_ARCH_X86_64, 0x40000000 | abi.SysWrite, nil, errno(abi.ENOSYS)},
		{"i386 ABI", unix.AUDIT_ARCH_I386, 4, nil, retKill},
	}
	for _, tt := range tests {
		// seccomp loads 32-bit words in the host's byte order, x/net/bpf's
		// interpreter in network order: put each word where the kernel
		// would, in the order the interpreter reads.
		data := make([]byte, 64)
		be := binary.BigEndian
		be.PutUint32(data[dataNr:], uint32(tt.nr))
		be.PutUint32(data[dataArch:], tt.arch)
		for i, a := range tt.args {
			be.PutUint32(data[dataArgs+8*i:], uint32(a))
			be.PutUint32(data[dataArgs+8*i+4:], uint32(a>>32))
		}
		got, err := vm.Run(data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if uint32(got) != tt.want {
			t.Errorf("%s: filter returns %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

// Every call of the table has a rule, and nothing else has.
func TestRulesCoverTable(t *testing.T) {
	rules, err := Rules(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != len(abi.Table) {
		t.Errorf("%d rules for %d calls", len(rules), len(abi.Table))
	}
	for _, s := range abi.Table {
		r, ok := rules[s.Nr]
		if !ok {
			t.Errorf("%s has no rule", s.Name)
		}
		if s.Nr == abi.SysExecveat { // the one exec, of the image
			continue
		}
		if s.Status == abi.Refused && (r.deny != s.Errno || len(r.allow) != 0) {
			t.Errorf("%s: refused with %d in the table, rule %+v", s.Name, s.Errno, r)
		}
	}
}
