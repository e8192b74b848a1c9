package stack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The resolver is a stub resolver of its own, not net.Resolver: Go's reads
// /etc/resolv.conf, /etc/nsswitch.conf and /etc/hosts, which an image does
// not have. It asks the stack's DNS servers for A and AAAA records over
// UDP, falling back to TCP for truncated answers.
const (
	dnsTimeout  = 2 * time.Second // per query to one server
	dnsAttempts = 2               // rounds over the server list
)

// LookupNetIP resolves host to its addresses, as net.Resolver.LookupNetIP
// does; network is "ip", "ip4" or "ip6". IPv4 addresses come first.
func (s *Stack) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var f family
	switch network {
	case "ip":
	case "ip4":
		f = 4
	case "ip6":
		f = 6
	default:
		return nil, net.UnknownNetworkError(network)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !f.allows(a) {
			return nil, &net.AddrError{Err: "address of the wrong family for " + network, Addr: host}
		}
		return []netip.Addr{a}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		var out []netip.Addr
		for _, a := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
			if f.allows(a) {
				out = append(out, a)
			}
		}
		return out, nil
	}
	servers := s.dns.list(time.Now())
	if len(servers) == 0 {
		return nil, &net.DNSError{Err: "no DNS servers (give --dns-servers, or get them by DHCP)", Name: host}
	}
	q, err := dnsmessage.NewName(name + ".")
	if err != nil || name == "" {
		return nil, &net.DNSError{Err: "invalid host name", Name: host, IsNotFound: true}
	}
	var types []dnsmessage.Type
	if f != 6 {
		types = append(types, dnsmessage.TypeA)
	}
	if f != 4 {
		types = append(types, dnsmessage.TypeAAAA)
	}
	type result struct {
		addrs []netip.Addr
		err   error
	}
	results := make([]chan result, len(types))
	for i, t := range types {
		results[i] = make(chan result, 1)
		go func() {
			a, err := s.query(ctx, servers, q, t)
			results[i] <- result{a, err}
		}()
	}
	var addrs []netip.Addr
	var firstErr error
	for _, ch := range results {
		r := <-ch
		addrs = append(addrs, r.addrs...)
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	if firstErr != nil {
		var de *net.DNSError
		if errors.As(firstErr, &de) {
			de.Name = host
			return nil, de
		}
		return nil, &net.DNSError{Err: firstErr.Error(), Name: host, IsTimeout: isTimeout(firstErr), IsTemporary: true}
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// query asks the servers, in turn, for records of type t.
func (s *Stack) query(ctx context.Context, servers []server, q dnsmessage.Name, t dnsmessage.Type) ([]netip.Addr, error) {
	var last error
	for range dnsAttempts {
		for _, sv := range servers {
			addrs, err := s.ask(ctx, sv, q, t)
			var de *net.DNSError
			if err == nil || errors.As(err, &de) && de.IsNotFound {
				return addrs, err // an answer, even "no such host", is final
			}
			last = err
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	return nil, last
}

// ask sends one query to one server, over UDP, then over TCP if the
// answer was truncated.
func (s *Stack) ask(ctx context.Context, sv server, q dnsmessage.Name, t dnsmessage.Type) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	id := uint16(rand.Uint32())
	b := dnsmessage.NewBuilder(make([]byte, 2, 514), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: q, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(msg, uint16(len(msg)-2)) // TCP's length prefix
	for _, transport := range []string{"udp", "tcp"} {
		answer, err := s.exchange(ctx, transport, sv, msg)
		if err != nil {
			return nil, err
		}
		addrs, truncated, err := parseAnswer(answer, id, t)
		if !truncated {
			return addrs, err
		}
	}
	return nil, errors.New("truncated answer over TCP")
}

// exchange sends msg (with its TCP length prefix) and returns the answer.
func (s *Stack) exchange(ctx context.Context, transport string, sv server, msg []byte) ([]byte, error) {
	fa, proto, _ := s.fullAddr(sv.addr.WithZone(""), 53)
	fa.NIC = sv.nic
	c, err := s.dialFull(ctx, transport, transport, fa, proto)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if transport == "tcp" {
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return nil, err
		}
		answer := make([]byte, binary.BigEndian.Uint16(n[:]))
		_, err := io.ReadFull(c, answer)
		return answer, err
	}
	if _, err := c.Write(msg[2:]); err != nil {
		return nil, err
	}
	answer := make([]byte, 1232)
	n, err := c.Read(answer)
	return answer[:n], err
}

// parseAnswer reads the addresses of type t out of an answer to query id.
func parseAnswer(msg []byte, id uint16, t dnsmessage.Type) (addrs []netip.Addr, truncated bool, err error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil, false, fmt.Errorf("bad DNS answer: %w", err)
	}
	if h.ID != id || !h.Response {
		return nil, false, errors.New("DNS answer to another query")
	}
	if h.Truncated {
		return nil, true, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, false, &net.DNSError{Err: "no such host", IsNotFound: true}
	default:
		return nil, false, &net.DNSError{Err: "server answered " + h.RCode.String(), IsTemporary: true}
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, false, err
	}
	for {
		ah, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			return addrs, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		switch {
		case ah.Type == t && t == dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil, false, err
			}
			addrs = append(addrs, netip.AddrFrom4(r.A))
		case ah.Type == t && t == dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil, false, err
			}
			addrs = append(addrs, netip.AddrFrom16(r.AAAA))
		default:
			if err := p.SkipAnswer(); err != nil {
				return nil, false, err
			}
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
