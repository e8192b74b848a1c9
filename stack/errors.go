package stack

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Errors come out of this package as the standard library's do on Linux:
// a *net.OpError around an *os.SyscallError around a syscall.Errno, so
// errors.Is(err, syscall.ECONNREFUSED), net.ErrClosed and
// os.ErrDeadlineExceeded work as callers (net/http, gRPC, retry loops)
// expect.

// errnos maps gVisor's errors to the errno Linux returns in their place,
// as gVisor's own syserr.TranslateNetstackError does for its sentry.
var errnos = []struct {
	err   tcpip.Error
	errno syscall.Errno
}{
	{&tcpip.ErrConnectionRefused{}, syscall.ECONNREFUSED},
	{&tcpip.ErrConnectionReset{}, syscall.ECONNRESET},
	{&tcpip.ErrConnectionAborted{}, syscall.ECONNABORTED},
	{&tcpip.ErrTimeout{}, syscall.ETIMEDOUT},
	{&tcpip.ErrNetworkUnreachable{}, syscall.ENETUNREACH},
	{&tcpip.ErrHostUnreachable{}, syscall.EHOSTUNREACH},
	{&tcpip.ErrHostDown{}, syscall.EHOSTDOWN},
	{&tcpip.ErrNoNet{}, syscall.ENONET},
	{&tcpip.ErrPortInUse{}, syscall.EADDRINUSE},
	{&tcpip.ErrBadLocalAddress{}, syscall.EADDRNOTAVAIL},
	{&tcpip.ErrNoPortAvailable{}, syscall.EAGAIN},
	{&tcpip.ErrClosedForSend{}, syscall.EPIPE},
	{&tcpip.ErrNotConnected{}, syscall.ENOTCONN},
	{&tcpip.ErrAlreadyConnected{}, syscall.EISCONN},
	{&tcpip.ErrAlreadyConnecting{}, syscall.EALREADY},
	{&tcpip.ErrAlreadyBound{}, syscall.EINVAL},
	{&tcpip.ErrInvalidEndpointState{}, syscall.EINVAL},
	{&tcpip.ErrAborted{}, syscall.EPIPE},
	{&tcpip.ErrMessageTooLong{}, syscall.EMSGSIZE},
	{&tcpip.ErrNoBufferSpace{}, syscall.ENOBUFS},
	{&tcpip.ErrBroadcastDisabled{}, syscall.EACCES},
	{&tcpip.ErrDestinationRequired{}, syscall.EDESTADDRREQ},
	{&tcpip.ErrAddressFamilyNotSupported{}, syscall.EAFNOSUPPORT},
	{&tcpip.ErrNotSupported{}, syscall.EOPNOTSUPP},
	{&tcpip.ErrNotPermitted{}, syscall.EPERM},
	{&tcpip.ErrBadAddress{}, syscall.EFAULT},
	{&tcpip.ErrInvalidOptionValue{}, syscall.EINVAL},
	{&tcpip.ErrUnknownProtocol{}, syscall.EPROTONOSUPPORT},
	{&tcpip.ErrWouldBlock{}, syscall.EAGAIN},
}

// errnoOf returns the errno for a gVisor error, found by its message,
// which is all that gonet's errors keep of it.
func errnoOf(msg string) (syscall.Errno, bool) {
	for _, e := range errnos {
		if e.err.String() == msg {
			return e.errno, true
		}
	}
	return 0, false
}

// sysErr turns a gVisor error into what the syscall would have returned.
func sysErr(syscallName string, err tcpip.Error) error {
	if errno, ok := errnoOf(err.String()); ok {
		return os.NewSyscallError(syscallName, errno)
	}
	return errors.New(err.String())
}

// ctxErr is what net returns for a dial ended by its context.
func ctxErr(err error) error {
	switch err {
	case context.DeadlineExceeded:
		return os.ErrDeadlineExceeded
	case context.Canceled:
		return errCanceled
	}
	return err
}

// errCanceled is net's "operation was canceled", which is context.Canceled.
var errCanceled = canceledError{}

type canceledError struct{}

func (canceledError) Error() string        { return "operation was canceled" }
func (canceledError) Is(target error) bool { return target == context.Canceled }

// fixOpError rewrites an error of gonet, whose *net.OpError holds the
// gVisor error only as text, into the standard library's form.
func fixOpError(err error, syscallName string) error {
	var op *net.OpError
	if !errors.As(err, &op) {
		return err
	}
	inner := op.Err
	var t interface{ Timeout() bool }
	switch {
	case errors.As(inner, &t) && t.Timeout():
		inner = os.ErrDeadlineExceeded
	default:
		if errno, ok := errnoOf(inner.Error()); ok {
			inner = os.NewSyscallError(syscallName, errno)
		}
	}
	return &net.OpError{Op: op.Op, Net: op.Net, Source: op.Source, Addr: op.Addr, Err: inner}
}
