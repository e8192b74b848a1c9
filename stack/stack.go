package stack

import (
	"context"
	"net"
	"sync"
)

// Network is what the package-level functions are served by.
type Network interface {
	Listen(ctx context.Context, network, address string) (net.Listener, error)
	ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error)
	Dial(ctx context.Context, network, address string) (net.Conn, error)
}

var (
	defaultOnce sync.Once
	defaultNet  Network
	defaultErr  error
)

// Default returns the network the image runs on: a *Stack over the
// attached network devices, or the host's sockets where there are none and
// the image runs as a host process (ErrNoDevice where it runs sandboxed).
// The first call configures it, from the boot arguments, the monitor or
// DHCP (see the package documentation), waiting up to 10 s for a DHCP
// lease; later calls return the same network, or the same error.
func Default() (Network, error) {
	defaultOnce.Do(func() { defaultNet, defaultErr = open() })
	return defaultNet, defaultErr
}

// Listen announces on the default network, as net.Listen does.
func Listen(network, address string) (net.Listener, error) {
	n, err := Default()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return n.Listen(context.Background(), network, address)
}

// ListenPacket announces on the default network, as net.ListenPacket does.
func ListenPacket(network, address string) (net.PacketConn, error) {
	n, err := Default()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return n.ListenPacket(context.Background(), network, address)
}

// Dial connects on the default network, as net.Dial does.
func Dial(network, address string) (net.Conn, error) {
	return DialContext(context.Background(), network, address)
}

// DialContext connects on the default network, as net.Dialer.DialContext
// does.
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	n, err := Default()
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return n.Dial(ctx, network, address)
}

var (
	_ Network = Host{}
	_ Network = (*Stack)(nil)
)
