package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Ports of RFC 2131.
const (
	ServerPort = 67
	ClientPort = 68
)

// Client obtains and keeps a lease for one interface. Set the fields, then
// call Run.
type Client struct {
	// Conn is a UDP socket bound to port 68 on the interface, allowed
	// to send to the broadcast address 255.255.255.255 while the
	// interface has no address yet.
	Conn net.PacketConn
	// MAC is the interface's hardware address.
	MAC net.HardwareAddr
	// Hostname, if set, is sent to the server (option 12).
	Hostname string
	// Logger receives the client's events; nil discards them.
	Logger *slog.Logger

	// OnLease is called with each lease acquired or renewed; OnExpire
	// when one ran out without a renewal. Both run on Run's goroutine.
	OnLease  func(Lease)
	OnExpire func(Lease)

	// Timeout is the first retransmission timeout, doubled after each
	// try up to 64 s. RFC 2131 suggests 4 s; the default is 1 s, since
	// the image waits for its address to boot.
	Timeout time.Duration
}

// errNAK is a server's refusal of a request.
var errNAK = errors.New("server answered NAK")

var broadcast = &net.UDPAddr{IP: net.IPv4bcast, Port: ServerPort}

// requested are the options the client asks for.
var requested = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionIPAddressLeaseTime,
	dhcpv4.OptionRenewTimeValue,
	dhcpv4.OptionRebindingTimeValue,
}

// Run acquires a lease and keeps it, renewing at T1 and rebinding at T2,
// and starts over when it runs out. It returns ctx's error once ctx is done.
func (c *Client) Run(ctx context.Context) error {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	// A blocked read returns as soon as ctx is done.
	stop := context.AfterFunc(ctx, func() { c.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		l, err := c.acquire(ctx)
		if err != nil {
			return err
		}
		prev := Lease{}
		for {
			if l.SameConfig(prev) {
				c.Logger.Debug("dhcp: renewed", "lease", l)
			} else {
				c.Logger.Info("dhcp: lease", "lease", l)
			}
			prev = l
			if c.OnLease != nil {
				c.OnLease(l)
			}
			next, err := c.keep(ctx, l)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				c.Logger.Warn("dhcp: lease lost", "address", l.Address, "err", err)
				if c.OnExpire != nil {
					c.OnExpire(l)
				}
				break
			}
			l = next
		}
	}
}

// acquire runs DISCOVER, OFFER, REQUEST, ACK until a server grants a lease.
func (c *Client) acquire(ctx context.Context) (Lease, error) {
	for {
		xid := newXID()
		discover, err := c.message(xid, dhcpv4.MessageTypeDiscover)
		if err != nil {
			return Lease{}, err
		}
		offer, _, err := c.exchange(ctx, discover, broadcast, time.Time{}, dhcpv4.MessageTypeOffer)
		if err != nil {
			return Lease{}, err // ctx is done, or the socket failed
		}
		c.Logger.Debug("dhcp: offer", "address", offer.YourIPAddr, "server", offer.ServerIdentifier())
		request, err := c.message(xid, dhcpv4.MessageTypeRequest,
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)),
			dhcpv4.WithOptionCopied(offer, dhcpv4.OptionServerIdentifier))
		if err != nil {
			return Lease{}, err
		}
		sent := time.Now()
		ack, peer, err := c.exchange(ctx, request, broadcast, sent.Add(c.Timeout*15), dhcpv4.MessageTypeAck)
		if ctx.Err() != nil {
			return Lease{}, ctx.Err()
		}
		if err == nil {
			l, lerr := leaseFrom(ack, peer, sent)
			if lerr == nil {
				return l, nil
			}
			err = lerr
		}
		c.Logger.Warn("dhcp: request failed; starting over", "err", err)
		if err := sleep(ctx, c.Timeout); err != nil {
			return Lease{}, err
		}
	}
}

// keep renews l at T1 with its server, then from T2 with any server, and
// returns the renewed lease, or an error when l ran out or was refused.
func (c *Client) keep(ctx context.Context, l Lease) (Lease, error) {
	if err := sleep(ctx, time.Until(l.Acquired.Add(l.T1))); err != nil {
		return Lease{}, err
	}
	phases := []struct {
		name  string
		to    *net.UDPAddr
		until time.Time
	}{
		{"renew", &net.UDPAddr{IP: l.Server.AsSlice(), Port: ServerPort}, l.Acquired.Add(l.T2)},
		{"rebind", broadcast, l.Expiry()},
	}
	for _, p := range phases {
		if !l.Server.IsValid() && p.name == "renew" {
			continue
		}
		req, err := c.message(newXID(), dhcpv4.MessageTypeRequest,
			dhcpv4.WithClientIP(l.Address.Addr().AsSlice()), dhcpv4.WithBroadcast(false))
		if err != nil {
			return Lease{}, err
		}
		sent := time.Now()
		c.Logger.Debug("dhcp: "+p.name, "address", l.Address, "to", p.to)
		ack, peer, err := c.exchange(ctx, req, p.to, p.until, dhcpv4.MessageTypeAck)
		if err == nil {
			return leaseFrom(ack, peer, sent)
		}
		if errors.Is(err, errNAK) || ctx.Err() != nil {
			return Lease{}, err
		}
	}
	return Lease{}, fmt.Errorf("no answer to renew or rebind before the lease expired at %v", l.Expiry().Format(time.TimeOnly))
}

// message builds a client message of type t in transaction xid.
func (c *Client) message(xid dhcpv4.TransactionID, t dhcpv4.MessageType, mods ...dhcpv4.Modifier) (*dhcpv4.DHCPv4, error) {
	base := []dhcpv4.Modifier{
		dhcpv4.WithTransactionID(xid),
		dhcpv4.WithHwAddr(c.MAC),
		dhcpv4.WithMessageType(t),
		// Without an address, the interface cannot receive a unicast
		// answer: ask for a broadcast one.
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithOption(dhcpv4.OptClientIdentifier(append([]byte{1}, c.MAC...))),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1500)),
		dhcpv4.WithRequestedOptions(requested...),
	}
	if c.Hostname != "" {
		base = append(base, dhcpv4.WithOption(dhcpv4.OptHostName(c.Hostname)))
	}
	m, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		return nil, fmt.Errorf("dhcp: building %s: %w", t, err)
	}
	return m, nil
}

// exchange sends m to dst and waits for an answer of type want (or a NAK)
// in the same transaction, retransmitting with exponential backoff until
// until (never, when zero) or ctx is done.
func (c *Client) exchange(ctx context.Context, m *dhcpv4.DHCPv4, dst net.Addr, until time.Time, want dhcpv4.MessageType) (*dhcpv4.DHCPv4, net.Addr, error) {
	out := m.ToBytes()
	buf := make([]byte, 1500)
	timeout := c.Timeout
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if _, err := c.Conn.WriteTo(out, dst); err != nil {
			c.Logger.Debug("dhcp: send", "type", m.MessageType(), "to", dst, "err", err)
		}
		deadline := time.Now().Add(jitter(timeout))
		if !until.IsZero() && deadline.After(until) {
			deadline = until
		}
		reply, peer, err := c.receive(ctx, buf, m, deadline, want)
		if err == nil || errors.Is(err, errNAK) || ctx.Err() != nil {
			return reply, peer, err
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil, fmt.Errorf("dhcp: receiving: %w", err) // the socket failed
		}
		if !until.IsZero() && !time.Now().Before(until) {
			return nil, nil, fmt.Errorf("no %s in answer to %s: %w", want, m.MessageType(), err)
		}
		timeout = min(2*timeout, 64*time.Second)
	}
}

// receive reads until an answer to m of type want arrives, or deadline.
func (c *Client) receive(ctx context.Context, buf []byte, m *dhcpv4.DHCPv4, deadline time.Time, want dhcpv4.MessageType) (*dhcpv4.DHCPv4, net.Addr, error) {
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return nil, nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		n, peer, err := c.Conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
				return nil, nil, os.ErrDeadlineExceeded
			}
			return nil, nil, err
		}
		r, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || r.OpCode != dhcpv4.OpcodeBootReply || r.TransactionID != m.TransactionID ||
			r.ClientHWAddr.String() != c.MAC.String() {
			continue // not ours
		}
		switch r.MessageType() {
		case want:
			return r, peer, nil
		case dhcpv4.MessageTypeNak:
			return nil, peer, fmt.Errorf("%w to %s: %s", errNAK, m.MessageType(), r.Message())
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func newXID() dhcpv4.TransactionID {
	var x dhcpv4.TransactionID
	v := rand.Uint32()
	x[0], x[1], x[2], x[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return x
}

// jitter spreads retransmissions of many clients by ±1/8 of d.
func jitter(d time.Duration) time.Duration {
	return d - d/8 + rand.N(d/4+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
