package hvt

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/x86"
)

const (
	syscallPort       = x86.SyscallPort
	exceptionPortBase = x86.ExceptionPortBase
)

// args are a system call's arguments, in the registers of the Linux
// x86-64 convention (rdi, rsi, rdx, r10, r8, r9).
type args [6]uint64

// outcome tells the run loop what to do after a handler.
type outcome int

const (
	resume   outcome = iota // return the result in RAX
	replaced                // the handler set every register itself
	parked                  // the thread ended
	stopped                 // the VM ended
)

// handler serves one system call. It returns the value for RAX: a result,
// or a negated errno.
type handler func(t *thread, a *args) (uint64, outcome)

// handlers is the implementation of the guest ABI. Its keys must be
// exactly the numbers of abi.Table; a test holds them to it.
var handlers map[int]handler

func init() {
	defer func() {
		// A refused call fails with the table's errno, in every mode.
		for _, s := range abi.Table {
			if s.Status == abi.Refused {
				handlers[s.Nr] = refuse(unix.Errno(s.Errno))
			}
		}
	}()
	handlers = map[int]handler{
		abi.SysRead:             sysRead,
		abi.SysWrite:            sysWrite,
		abi.SysClose:            sysClose,
		abi.SysMmap:             sysMmap,
		abi.SysMprotect:         sysMprotect,
		abi.SysMunmap:           sysMunmap,
		abi.SysBrk:              func(*thread, *args) (uint64, outcome) { return 0, resume },
		abi.SysRtSigaction:      sysRtSigaction,
		abi.SysRtSigprocmask:    sysRtSigprocmask,
		abi.SysRtSigreturn:      sysRtSigreturn,
		abi.SysSchedYield:       sysSchedYield,
		abi.SysMadvise:          sysMadvise,
		abi.SysNanosleep:        sysNanosleep,
		abi.SysGetpid:           constant(guestPID),
		abi.SysClone:            sysClone,
		abi.SysExit:             sysExit,
		abi.SysKill:             sysKill,
		abi.SysUname:            sysUname,
		abi.SysFcntl:            sysFcntl,
		abi.SysFstat:            sysFstat,
		abi.SysGetcwd:           sysGetcwd,
		abi.SysGetuid:           constant(0),
		abi.SysGetgid:           constant(0),
		abi.SysGeteuid:          constant(0),
		abi.SysGetegid:          constant(0),
		abi.SysGetppid:          constant(0),
		abi.SysSigaltstack:      sysSigaltstack,
		abi.SysArchPrctl:        sysArchPrctl,
		abi.SysGettid:           func(t *thread, _ *args) (uint64, outcome) { return uint64(t.tid), resume },
		abi.SysFutex:            sysFutex,
		abi.SysSchedGetaffinity: sysSchedGetaffinity,
		abi.SysClockGettime:     sysClockGettime,
		abi.SysClockGetres:      sysClockGetres,
		abi.SysClockNanosleep:   sysClockNanosleep,
		abi.SysExitGroup:        sysExitGroup,
		abi.SysEpollWait:        sysEpollWait,
		abi.SysEpollCtl:         sysEpollCtl,
		abi.SysTgkill:           sysTgkill,
		abi.SysEpollPwait:       sysEpollPwait,
		abi.SysEventfd2:         sysEventfd2,
		abi.SysEpollCreate1:     sysEpollCreate1,
		abi.SysPipe2:            sysPipe2,
		abi.SysPrlimit64:        sysPrlimit64,
		abi.SysGetrandom:        sysGetrandom,
		abi.SysRseq:             constant(errno(unix.ENOSYS)),
		abi.SysPread64:          sysPread64,
		abi.SysPwrite64:         sysPwrite64,
		abi.SysFsync:            sysFsync,
		abi.SysFdatasync:        sysFsync,
	}
}

const guestPID = 1

func refuse(e unix.Errno) handler {
	return func(*thread, *args) (uint64, outcome) { return errno(e), resume }
}

func constant(v uint64) handler {
	return func(*thread, *args) (uint64, outcome) { return v, resume }
}

// errno encodes err as a negated errno for RAX.
func errno(err error) uint64 {
	var e unix.Errno
	if !errors.As(err, &e) {
		e = unix.EINVAL
	}
	return uint64(-int64(e))
}

// ret returns v, or the errno of err.
func ret(v uint64, err error) (uint64, outcome) {
	if err != nil {
		return errno(err), resume
	}
	return v, resume
}

// syscall serves the system call the guest made at its doorbell.
func (t *thread) syscall() bool {
	t.vm.stats.syscalls.Add(1)
	r := t.regs()
	nr := int(r.RAX)
	a := args{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
	h := handlers[nr]
	if h == nil {
		if _, dup := t.vm.reported.LoadOrStore(nr, true); !dup {
			fmt.Fprintf(t.vm.cfg.Stderr, "morgana: unsupported system call %d (ENOSYS)\n", nr)
		}
		h = refuse(unix.ENOSYS)
	}
	start := time.Now()
	v, out := h(t, &a)
	t.vm.stats.call(nr, time.Since(start))
	if t.vm.cfg.Trace != nil {
		t.trace(nr, &a, v, start)
	}
	switch out {
	case resume:
		r = t.regs()
		r.RAX = v
		t.markDirty()
		t.deliverAtSyscall()
	case parked:
		return t.park()
	case stopped:
		return false
	}
	return true
}

// trace prints one system call: time since boot, thread, call, arguments,
// result, and the time the monitor spent on it.
func (t *thread) trace(nr int, a *args, v uint64, start time.Time) {
	name := fmt.Sprint("syscall_", nr)
	if e, ok := abi.Lookup(nr); ok {
		name = e.Name
	}
	res := fmt.Sprintf("%#x", v)
	if e := -int64(v); e > 0 && e < 4096 {
		res = "-1 " + unix.ErrnoName(unix.Errno(e))
	}
	fmt.Fprintf(t.vm.cfg.Trace, "%10.6f [%d] %s(%#x, %#x, %#x, %#x) = %s <%v>\n",
		start.Sub(t.vm.start).Seconds(), t.tid, name, a[0], a[1], a[2], a[3], res, time.Since(start).Round(time.Microsecond))
}
