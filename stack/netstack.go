package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/morgana-os/morgana/stack/dhcp"
)

// TCP buffer sizes: the least a socket may set, what it starts with, and
// the most. Receive-buffer moderation (auto-tuning, as Linux's
// tcp_moderate_rcvbuf) grows a receive buffer up to the most only while
// the application reads as fast as data comes; gVisor grows a send buffer
// with the congestion window, whether or not the peer reads. So the send
// buffer's most is smaller: a client that stops reading holds at most
// that much of the image's memory in its connection's send buffer (with
// 4 MiB, 80 such clients exhausted a 256 MiB VM), and on a VM's link 1
// MiB keeps up with the wire (bench/net).
const (
	tcpBufferMin         = 4 << 10
	tcpBufferDefault     = 1 << 20
	tcpReceiveBufferMax  = 4 << 20
	tcpSendBufferDefault = 256 << 10
	tcpSendBufferMax     = 1 << 20
)

const (
	txQueueLen        = 1000 // packets waiting for a device, as Linux's txqueuelen
	loopbackName      = "lo"
	dhcpClientTimeout = time.Second // first retransmission; the image waits for its lease
)

// Stack is a TCP/IP stack that lives in the image: gVisor's netstack over
// one or more network devices, with a loopback interface besides. It is a
// Network; its methods may be called concurrently.
type Stack struct {
	gv     *gvstack.Stack
	log    *slog.Logger
	nics   []*nic
	byName map[string]*nic
	work   workQueue
	dns    dnsServers
	fast   *fastPath // the UDP fast path; nil when disabled

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	bg     sync.WaitGroup // DHCP clients and the work queue

	closeOnce sync.Once
}

// nic is one interface of the stack.
type nic struct {
	id   tcpip.NICID
	name string
	cfg  NICConfig
	link *linkEndpoint // nil for loopback

	leased    chan struct{} // closed at the first DHCP lease
	leaseOnce sync.Once
	lease     dhcp.Lease // guarded by the DHCP client's goroutine
}

// New builds a stack over the devices of cfg, assigns the static addresses
// and starts DHCP where asked. It does not wait for DHCP: see WaitDHCP.
// The stack owns the devices: Close closes them, and so does New when it
// fails.
func New(cfg Config) (*Stack, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for i := range cfg.NICs {
		if err := cfg.NICs[i].check(); err != nil {
			(&Stack{log: log}).closeDevices(cfg.NICs)
			return nil, fmt.Errorf("stack: NIC %d: %w", i, err)
		}
	}
	s := &Stack{log: log, byName: make(map[string]*nic)}
	s.dns.static = cfg.DNSServers
	if !cfg.DisableUDPFastPath {
		s.fast = &fastPath{}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.gv = gvstack.New(gvstack.Options{
		NetworkProtocols: []gvstack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{
				NDPConfigs:       ndpConfig(),
				AutoGenLinkLocal: true,
				NDPDisp:          &ndpDispatcher{s: s},
				DADConfigs:       gvstack.DefaultDADConfigurations(),
			}),
		},
		TransportProtocols: []gvstack.TransportProtocolFactory{
			tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6,
		},
		HandleLocal: true,
	})
	if err := s.tuneTCP(); err != nil {
		s.cancel()
		s.gv.Destroy()
		s.closeDevices(cfg.NICs)
		return nil, err
	}
	s.bg.Add(1)
	go func() { defer s.bg.Done(); s.work.run(s.ctx) }()

	for i, nc := range cfg.NICs {
		if err := s.addNIC(tcpip.NICID(i+1), nc); err != nil {
			s.closeDevices(cfg.NICs[len(s.nics):])
			s.Close()
			return nil, err
		}
	}
	if err := s.addLoopback(tcpip.NICID(len(cfg.NICs) + 1)); err != nil {
		s.Close()
		return nil, err
	}
	for _, n := range s.nics {
		if n.cfg.DHCP {
			if err := s.startDHCP(n); err != nil {
				s.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

func (s *Stack) tuneTCP() error {
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	delay := tcpip.TCPDelayEnabled(false) // no Nagle by default, as Go's net
	opts := []tcpip.SettableTransportProtocolOption{
		&sack, &moderate, &delay,
		&tcpip.TCPReceiveBufferSizeRangeOption{Min: tcpBufferMin, Default: tcpBufferDefault, Max: tcpReceiveBufferMax},
		&tcpip.TCPSendBufferSizeRangeOption{Min: tcpBufferMin, Default: tcpSendBufferDefault, Max: tcpSendBufferMax},
	}
	for _, o := range opts {
		if err := s.gv.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return fmt.Errorf("stack: TCP option %T: %s", o, err)
		}
	}
	return nil
}

// ndpConfig is gVisor's default NDP behaviour (router solicitations, SLAAC,
// routes and on-link prefixes from router advertisements) without the
// temporary addresses of RFC 4941: a server wants addresses that stay.
func ndpConfig() ipv6.NDPConfigurations {
	c := ipv6.DefaultNDPConfigurations()
	c.HandleRAs = ipv6.HandlingRAsEnabledWhenForwardingDisabled
	c.DiscoverDefaultRouters = true
	c.DiscoverOnLinkPrefixes = true
	c.AutoGenGlobalAddresses = true
	c.AutoGenTempGlobalAddresses = false
	return c
}

func (s *Stack) addNIC(id tcpip.NICID, nc NICConfig) error {
	name := nc.Device.Name()
	if _, dup := s.byName[name]; dup || name == loopbackName {
		return fmt.Errorf("stack: two NICs named %q", name)
	}
	n := &nic{id: id, name: name, cfg: nc, leased: make(chan struct{})}
	n.link = newLinkEndpoint(nc.Device, s.log)
	if s.fast != nil {
		s.fast.addLink(n.link, id)
	}
	eth := ethernet.New(n.link)
	err := s.gv.CreateNICWithOptions(id, eth, gvstack.NICOptions{
		Name:  name,
		QDisc: fifo.New(eth, 1, txQueueLen),
	})
	if err != nil {
		return fmt.Errorf("stack: NIC %s: %s", name, err)
	}
	s.nics = append(s.nics, n)
	s.byName[name] = n
	// Link-local destinations need a route when the socket names no NIC.
	s.gv.AddRoute(tcpip.Route{Destination: prefixToSubnet(netip.MustParsePrefix("fe80::/64")), NIC: id})

	if nc.DHCP {
		// Until the lease, 0.0.0.0 is the source of the DHCP client's
		// broadcasts (RFC 2131 4.1).
		if err := s.addAddress(n, netip.PrefixFrom(netip.IPv4Unspecified(), 0), false); err != nil {
			return err
		}
	} else if nc.IPv4.IsValid() {
		if err := s.addAddress(n, nc.IPv4, true); err != nil {
			return err
		}
		s.setGateway(n, nc.IPv4Gateway)
		s.announce(n, nc.IPv4.Addr())
	}
	if nc.IPv6.IsValid() {
		if err := s.addAddress(n, nc.IPv6, true); err != nil {
			return err
		}
	}
	s.setGateway(n, nc.IPv6Gateway)
	s.log.Info("NIC up", "nic", name, "mac", nc.Device.MAC().String(), "mtu", nc.Device.MTU(),
		"ipv4", nc.IPv4, "ipv6", nc.IPv6, "dhcp", nc.DHCP)
	return nil
}

// addLoopback adds lo with 127.0.0.1/8 and ::1, so that programs reach
// themselves as they would on any host.
func (s *Stack) addLoopback(id tcpip.NICID) error {
	if err := s.gv.CreateNICWithOptions(id, loopback.New(), gvstack.NICOptions{Name: loopbackName, Disabled: true}); err != nil {
		return fmt.Errorf("stack: loopback: %s", err)
	}
	// No duplicate address detection on loopback, as on Linux: gVisor's
	// would see its own probes come back and hold ::1 for seconds.
	if ep, err := s.gv.GetNetworkEndpoint(id, ipv6.ProtocolNumber); err == nil {
		if d, ok := ep.(gvstack.DuplicateAddressDetector); ok {
			d.SetDADConfigurations(gvstack.DADConfigurations{})
		}
	}
	n := &nic{id: id, name: loopbackName, leased: make(chan struct{})}
	s.byName[loopbackName] = n
	for _, p := range []string{"127.0.0.1/8", "::1/128"} {
		if err := s.addAddress(n, netip.MustParsePrefix(p), true); err != nil {
			return err
		}
	}
	if err := s.gv.EnableNIC(id); err != nil {
		return fmt.Errorf("stack: loopback: %s", err)
	}
	return nil
}

// Close shuts the stack down: it stops DHCP, aborts every connection
// (blocked calls return), and closes the devices.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.gv.Close() // aborts endpoints: Accept, Read and Write return
		// Close the devices and wait for their readers before gVisor's
		// Wait, which waits for them holding the stack's lock, which a
		// reader delivering a packet may need.
		for _, n := range s.nics {
			n.link.Close()
			n.link.Wait()
		}
		s.bg.Wait()
		s.gv.Wait()
	})
	return nil
}

func (s *Stack) closeDevices(ncs []NICConfig) {
	for _, nc := range ncs {
		if nc.Device == nil {
			continue
		}
		if err := nc.Device.Close(); err != nil {
			s.log.Warn("closing network device", "nic", nc.Device.Name(), "err", err)
		}
	}
}

// errClosed is returned by calls on a closed stack; it is net.ErrClosed.
var errClosed error = stackClosedError{}

type stackClosedError struct{}

func (stackClosedError) Error() string        { return "network stack closed" }
func (stackClosedError) Is(target error) bool { return target == net.ErrClosed }

func (s *Stack) closed() bool { return s.ctx.Err() != nil }
