package abi

// Status says how much of a system call the monitor implements.
type Status int

const (
	// Supported calls behave as on Linux for every argument a Go
	// program uses.
	Supported Status = iota
	// Partial calls implement a stated subset; the rest fails with the
	// stated error.
	Partial
	// Refused calls always fail with a fixed error: the guest sees a
	// clear refusal, never a silent success.
	Refused
)

func (s Status) String() string {
	switch s {
	case Supported:
		return "supported"
	case Partial:
		return "partial"
	case Refused:
		return "refused"
	}
	return "unknown"
}

// Syscall is one entry of the guest ABI.
type Syscall struct {
	Nr     int
	Name   string
	Status Status
	Notes  string
	// Errno is what a Refused call always fails with.
	Errno Errno
}

// Errno is a Linux error number (asm-generic/errno-base.h).
type Errno int

// The error numbers the table uses.
const (
	EPERM  Errno = 1
	ENOENT Errno = 2
	EBADF  Errno = 9
	EACCES Errno = 13
	EINVAL Errno = 22
	ENOTTY Errno = 25
	ENOMEM Errno = 12
	ENOSYS Errno = 38
)

// Table is the guest ABI, sorted by number (linux/amd64 numbering).
var Table = []Syscall{
	{SysRead, "read", Partial, "network devices (one frame per call), eventfds and pipes; fd 0 is the monitor's standard input, read only once the guest reads it and at most 64 KiB ahead; EBADF otherwise", 0},
	{SysWrite, "write", Partial, "fds 1 and 2 (the console; of the host's errors EPIPE, with a SIGPIPE, ENOSPC, EDQUOT, EFBIG and EIO are the guest's, others count as written), network devices (one frame per call; zero bytes kicks the monitor when the rings are mapped), eventfds and pipes; EBADF otherwise", 0},
	{SysOpen, "open", Refused, "ENOENT: there is no file system", ENOENT},
	{SysClose, "close", Supported, "descriptors the guest created", 0},
	{SysFstat, "fstat", Partial, "the descriptor's type only, so that a program can tell a terminal from a pipe: fds 0-2 as the monitor's own are (a character device, a pipe, a file, a socket), pipes, network devices (character), block devices (block, with their size); no times, owner or inode", 0},
	{SysMmap, "mmap", Partial, "MAP_PRIVATE|MAP_ANONYMOUS with MAP_FIXED, MAP_FIXED_NOREPLACE and hints; memory with access is committed against --mem; PROT_EXEC refused (EACCES); MAP_SHARED of a network device gives its rings (abi.NetRing*), once; other descriptors ENODEV", 0},
	{SysMprotect, "mprotect", Partial, "any change that does not add execute permission (EACCES)", 0},
	{SysMunmap, "munmap", Supported, "frames go back to the pool and their memory to the host", 0},
	{SysBrk, "brk", Partial, "no program break: always returns 0, so allocators fall back to mmap", 0},
	{SysRtSigaction, "rt_sigaction", Supported, "SA_SIGINFO, SA_ONSTACK, SA_RESTORER, SA_NODEFER, SA_RESETHAND; setting SIGKILL or SIGSTOP EINVAL. On PVM the syscall stub answers reads and sets without an exit, from the signal table it shares with the monitor in guest memory; only calls that fail with EINVAL reach the monitor", 0},
	{SysRtSigprocmask, "rt_sigprocmask", Supported, "per thread", 0},
	{SysRtSigreturn, "rt_sigreturn", Supported, "restores registers, FPU state, mask and alternate stack from the frame", 0},
	{SysIoctl, "ioctl", Refused, "ENOTTY", ENOTTY},
	{SysPread64, "pread64", Partial, "block devices, whole sectors inside the device (EINVAL otherwise); EBADF on other descriptors", 0},
	{SysPwrite64, "pwrite64", Partial, "writable block devices, as pread64; EBADF on read-only ones; a host error is EIO, but a full host disk ENOSPC (or EDQUOT), as spt sees it", 0},
	{SysSchedYield, "sched_yield", Supported, "", 0},
	{SysMadvise, "madvise", Partial, "MADV_DONTNEED and MADV_FREE return memory to the host; other advice is accepted and ignored", 0},
	{SysNanosleep, "nanosleep", Supported, "interrupted by signals (EINTR)", 0},
	{SysSetitimer, "setitimer", Refused, "EINVAL: no profiling timers", EINVAL},
	{SysGetpid, "getpid", Supported, "always 1", 0},
	{SysSocket, "socket", Refused, "EACCES: networking is a library inside the image", EACCES},
	{SysConnect, "connect", Refused, "EACCES", EACCES},
	{SysClone, "clone", Partial, "threads only (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND): each thread is a vCPU, 256 at most (EAGAIN beyond, as RLIMIT_NPROC reports); processes EPERM", 0},
	{SysFork, "fork", Refused, "EPERM: one process", EPERM},
	{SysVfork, "vfork", Refused, "EPERM: one process", EPERM},
	{SysExecve, "execve", Refused, "EACCES: the image is the only program", EACCES},
	{SysExit, "exit", Supported, "ends the thread; its vCPU is parked for reuse", 0},
	{SysKill, "kill", Partial, "the guest's own process (pid 0, 1 or -1); ESRCH otherwise", 0},
	{SysUname, "uname", Supported, "sysname Linux, nodename morgana", 0},
	{SysFcntl, "fcntl", Partial, "F_GETFD, F_SETFD, F_GETFL, F_SETFL; descriptors report blocking", 0},
	{SysFsync, "fsync", Partial, "block devices: the host file is synced; EINVAL on other descriptors", 0},
	{SysFdatasync, "fdatasync", Partial, "as fsync", 0},
	{SysGetcwd, "getcwd", Partial, "always the root, /: there is no file system (spt starts the image in /); ERANGE for a buffer under 2 bytes", 0},
	{SysPtrace, "ptrace", Refused, "EPERM", EPERM},
	{SysGetuid, "getuid", Supported, "0", 0},
	{SysGetgid, "getgid", Supported, "0", 0},
	{SysGeteuid, "geteuid", Supported, "0", 0},
	{SysGetegid, "getegid", Supported, "0", 0},
	{SysGetppid, "getppid", Supported, "0", 0},
	{SysSigaltstack, "sigaltstack", Supported, "per thread", 0},
	{SysPrctl, "prctl", Refused, "EINVAL, as a kernel without CONFIG_ANON_VMA_NAME answers PR_SET_VMA: the Go runtime then stops naming its mappings, one exit instead of one per mmap", EINVAL},
	{SysArchPrctl, "arch_prctl", Partial, "ARCH_SET_FS, ARCH_GET_FS; EINVAL otherwise", 0},
	{SysGettid, "gettid", Supported, "thread IDs start at 1", 0},
	{SysFutex, "futex", Partial, "FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET (private or not), with timeouts; ENOSYS otherwise", 0},
	{SysSchedGetaffinity, "sched_getaffinity", Supported, "one bit per vCPU of --cpus", 0},
	{SysTimerCreate, "timer_create", Refused, "EINVAL: no profiling timers", EINVAL},
	{SysClockGettime, "clock_gettime", Supported, "normally answered by the vDSO without an exit", 0},
	{SysClockGetres, "clock_getres", Supported, "1 ns", 0},
	{SysClockNanosleep, "clock_nanosleep", Supported, "relative and TIMER_ABSTIME", 0},
	{SysExitGroup, "exit_group", Supported, "ends the VM with the status", 0},
	{SysEpollWait, "epoll_wait", Supported, "as epoll_pwait without a mask", 0},
	{SysEpollCtl, "epoll_ctl", Supported, "on eventfds", 0},
	{SysTgkill, "tgkill", Supported, "interrupts the target vCPU (asynchronous preemption)", 0},
	{SysOpenat, "openat", Refused, "ENOENT: there is no file system", ENOENT},
	{SysMkdirat, "mkdirat", Refused, "ENOENT: there is no file system", ENOENT},
	{SysNewfstatat, "newfstatat", Refused, "ENOENT: there is no file system", ENOENT},
	{SysReadlinkat, "readlinkat", Refused, "ENOENT: there is no file system (so no /proc/self/exe)", ENOENT},
	{SysEpollPwait, "epoll_pwait", Supported, "timeouts in ms; interrupted by signals", 0},
	{SysEventfd2, "eventfd2", Supported, "EFD_NONBLOCK, EFD_CLOEXEC, EFD_SEMAPHORE", 0},
	{SysEpollCreate1, "epoll_create1", Supported, "", 0},
	{SysPipe2, "pipe2", Supported, "pipes inside the guest (64 KiB buffer); O_NONBLOCK, O_CLOEXEC", 0},
	{SysPrlimit64, "prlimit64", Partial, "own process; reports fixed limits, accepts lowering", 0},
	{SysGetrandom, "getrandom", Supported, "from the host's random source", 0},
	{SysExecveat, "execveat", Refused, "EACCES", EACCES},
	{SysCopyFileRange, "copy_file_range", Refused, "ENOSYS: there are no files to copy between; Go's io.Copy between two *os.File (stdin to stdout) then reads and writes", ENOSYS},
	{SysRseq, "rseq", Partial, "ENOSYS in hvt. spt lets it through: between loading the filter and becoming the image, morgana's own child may start threads, and a glibc-linked morgana (built with cgo) registers each with rseq and aborts if that fails. A Go image never calls it", 0},
}

// Lookup returns the entry for system call nr.
func Lookup(nr int) (Syscall, bool) {
	for _, s := range Table {
		if s.Nr == nr {
			return s, true
		}
	}
	return Syscall{}, false
}
