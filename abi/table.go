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
}

// Table is the guest ABI, sorted by number (linux/amd64 numbering).
var Table = []Syscall{
	{SysRead, "read", Partial, "eventfds; fd 0 reads as end of file; EBADF otherwise"},
	{SysWrite, "write", Partial, "fds 1 and 2 (the console) and eventfds; EBADF otherwise"},
	{SysOpen, "open", Refused, "ENOENT: there is no file system"},
	{SysClose, "close", Supported, "descriptors the guest created"},
	{SysMmap, "mmap", Partial, "MAP_PRIVATE|MAP_ANONYMOUS with MAP_FIXED, MAP_FIXED_NOREPLACE and hints; memory with access is committed against --mem; PROT_EXEC refused (EACCES); file mappings ENODEV"},
	{SysMprotect, "mprotect", Partial, "any change that does not add execute permission (EACCES)"},
	{SysMunmap, "munmap", Supported, "frames go back to the pool and their memory to the host"},
	{SysBrk, "brk", Partial, "no program break: always returns 0, so allocators fall back to mmap"},
	{SysRtSigaction, "rt_sigaction", Supported, "SA_SIGINFO, SA_ONSTACK, SA_RESTORER, SA_NODEFER, SA_RESETHAND; setting SIGKILL or SIGSTOP EINVAL. On PVM, reads (act NULL) are answered by the syscall stub from a read-only mirror of the table, without an exit"},
	{SysRtSigprocmask, "rt_sigprocmask", Supported, "per thread"},
	{SysRtSigreturn, "rt_sigreturn", Supported, "restores registers, FPU state, mask and alternate stack from the frame"},
	{SysIoctl, "ioctl", Refused, "ENOTTY"},
	{SysPread64, "pread64", Refused, "EBADF: no files"},
	{SysSchedYield, "sched_yield", Supported, ""},
	{SysMadvise, "madvise", Partial, "MADV_DONTNEED and MADV_FREE return memory to the host; other advice is accepted and ignored"},
	{SysNanosleep, "nanosleep", Supported, "interrupted by signals (EINTR)"},
	{SysSetitimer, "setitimer", Refused, "EINVAL: no profiling timers"},
	{SysGetpid, "getpid", Supported, "always 1"},
	{SysSocket, "socket", Refused, "EACCES: networking is a library inside the image"},
	{SysConnect, "connect", Refused, "EACCES"},
	{SysClone, "clone", Partial, "threads only (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND): each thread is a vCPU; processes EPERM"},
	{SysFork, "fork", Refused, "EPERM: one process"},
	{SysVfork, "vfork", Refused, "EPERM: one process"},
	{SysExecve, "execve", Refused, "EACCES: the image is the only program"},
	{SysExit, "exit", Supported, "ends the thread; its vCPU is parked for reuse"},
	{SysKill, "kill", Partial, "the guest's own process (pid 0, 1 or -1); ESRCH otherwise"},
	{SysUname, "uname", Supported, "sysname Linux, nodename morgana"},
	{SysFcntl, "fcntl", Partial, "F_GETFD, F_SETFD, F_GETFL, F_SETFL; descriptors report blocking"},
	{SysPtrace, "ptrace", Refused, "EPERM"},
	{SysGetuid, "getuid", Supported, "0"},
	{SysGetgid, "getgid", Supported, "0"},
	{SysGeteuid, "geteuid", Supported, "0"},
	{SysGetegid, "getegid", Supported, "0"},
	{SysGetppid, "getppid", Supported, "0"},
	{SysSigaltstack, "sigaltstack", Supported, "per thread"},
	{SysPrctl, "prctl", Refused, "EINVAL, as a kernel without CONFIG_ANON_VMA_NAME answers PR_SET_VMA: the Go runtime then stops naming its mappings, one exit instead of one per mmap"},
	{SysArchPrctl, "arch_prctl", Partial, "ARCH_SET_FS, ARCH_GET_FS; EINVAL otherwise"},
	{SysGettid, "gettid", Supported, "thread IDs start at 1"},
	{SysFutex, "futex", Partial, "FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET (private or not), with timeouts; ENOSYS otherwise"},
	{SysSchedGetaffinity, "sched_getaffinity", Supported, "one bit per vCPU of --cpus"},
	{SysTimerCreate, "timer_create", Refused, "EINVAL: no profiling timers"},
	{SysClockGettime, "clock_gettime", Supported, "normally answered by the vDSO without an exit"},
	{SysClockGetres, "clock_getres", Supported, "1 ns"},
	{SysClockNanosleep, "clock_nanosleep", Supported, "relative and TIMER_ABSTIME"},
	{SysExitGroup, "exit_group", Supported, "ends the VM with the status"},
	{SysEpollWait, "epoll_wait", Supported, "as epoll_pwait without a mask"},
	{SysEpollCtl, "epoll_ctl", Supported, "on eventfds"},
	{SysTgkill, "tgkill", Supported, "interrupts the target vCPU (asynchronous preemption)"},
	{SysOpenat, "openat", Refused, "ENOENT: there is no file system"},
	{SysMkdirat, "mkdirat", Refused, "ENOENT: there is no file system"},
	{SysNewfstatat, "newfstatat", Refused, "ENOENT: there is no file system"},
	{SysReadlinkat, "readlinkat", Refused, "ENOENT: there is no file system (so no /proc/self/exe)"},
	{SysEpollPwait, "epoll_pwait", Supported, "timeouts in ms; interrupted by signals"},
	{SysEventfd2, "eventfd2", Supported, "EFD_NONBLOCK, EFD_CLOEXEC, EFD_SEMAPHORE"},
	{SysEpollCreate1, "epoll_create1", Supported, ""},
	{SysPipe2, "pipe2", Supported, "pipes inside the guest (64 KiB buffer); O_NONBLOCK, O_CLOEXEC"},
	{SysPrlimit64, "prlimit64", Partial, "own process; reports fixed limits, accepts lowering"},
	{SysGetrandom, "getrandom", Supported, "from the host's random source"},
	{SysExecveat, "execveat", Refused, "EACCES"},
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
