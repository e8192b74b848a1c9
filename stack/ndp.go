package stack

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ndpDispatcher receives what IPv6 neighbor discovery learns from router
// advertisements. gVisor leaves the routes to its integrator, and forbids
// calling into the stack from these callbacks: the route changes go
// through the stack's work queue.
type ndpDispatcher struct{ s *Stack }

var _ ipv6.NDPDispatcher = (*ndpDispatcher)(nil)

func (d *ndpDispatcher) OnDuplicateAddressDetectionResult(id tcpip.NICID, a tcpip.Address, r gvstack.DADResult) {
	switch r := r.(type) {
	case *gvstack.DADDupAddrDetected:
		d.s.log.Warn("ipv6: address already in use on the link", "nic", id, "address", a, "holder", r.HolderLinkAddress)
	case *gvstack.DADError:
		d.s.log.Warn("ipv6: duplicate address detection failed", "nic", id, "address", a, "err", r.Err)
	default:
		d.s.log.Debug("ipv6: duplicate address detection over", "nic", id, "address", a, "result", fmt.Sprintf("%T", r))
	}
}

func (d *ndpDispatcher) OnOffLinkRouteUpdated(id tcpip.NICID, dst tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	d.s.log.Info("ipv6: route from router advertisement", "nic", id, "dst", dst, "via", router)
	route := tcpip.Route{Destination: dst, Gateway: router, NIC: id}
	d.s.work.add(func() { d.s.gv.ReplaceRoute(route) })
}

func (d *ndpDispatcher) OnOffLinkRouteInvalidated(id tcpip.NICID, dst tcpip.Subnet, router tcpip.Address) {
	d.s.log.Debug("ipv6: route gone", "nic", id, "dst", dst, "via", router)
	d.s.work.add(func() {
		d.s.gv.RemoveRoutes(func(r tcpip.Route) bool {
			return r.NIC == id && r.Destination == dst && r.Gateway == router
		})
	})
}

func (d *ndpDispatcher) OnOnLinkPrefixDiscovered(id tcpip.NICID, p tcpip.Subnet) {
	d.s.log.Debug("ipv6: on-link prefix", "nic", id, "prefix", p)
	route := tcpip.Route{Destination: p, NIC: id}
	d.s.work.add(func() { d.s.gv.ReplaceRoute(route) })
}

func (d *ndpDispatcher) OnOnLinkPrefixInvalidated(id tcpip.NICID, p tcpip.Subnet) {
	d.s.work.add(func() {
		d.s.gv.RemoveRoutes(func(r tcpip.Route) bool {
			return r.NIC == id && r.Destination == p && r.Gateway.BitLen() == 0
		})
	})
}

func (d *ndpDispatcher) OnAutoGenAddress(id tcpip.NICID, a tcpip.AddressWithPrefix) gvstack.AddressDispatcher {
	d.s.log.Info("ipv6: address configured", "nic", id, "address", a)
	return nil
}

func (d *ndpDispatcher) OnAutoGenAddressDeprecated(id tcpip.NICID, a tcpip.AddressWithPrefix) {
	d.s.log.Debug("ipv6: address deprecated", "nic", id, "address", a)
}

func (d *ndpDispatcher) OnAutoGenAddressInvalidated(id tcpip.NICID, a tcpip.AddressWithPrefix) {
	d.s.log.Debug("ipv6: address gone", "nic", id, "address", a)
}

func (d *ndpDispatcher) OnRecursiveDNSServerOption(id tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	d.s.log.Debug("ipv6: DNS servers from router advertisement", "nic", id, "servers", addrs, "lifetime", lifetime)
	expiry := time.Now().Add(lifetime)
	for _, a := range addrs {
		d.s.dns.learn(addrFromTCPIP(a), id, expiry)
	}
}

func (d *ndpDispatcher) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration) {}

func (d *ndpDispatcher) OnDHCPv6Configuration(id tcpip.NICID, c ipv6.DHCPv6ConfigurationFromNDPRA) {
	d.s.log.Debug("ipv6: router advertises DHCPv6, which this stack does not run", "nic", id, "config", c)
}

// workQueue runs functions on a goroutine of its own, in order: how code
// that must not call into the stack (gVisor's callbacks) gets it done.
type workQueue struct {
	mu   sync.Mutex
	fns  []func()
	wake chan struct{}
	once sync.Once
}

func (q *workQueue) init() { q.once.Do(func() { q.wake = make(chan struct{}, 1) }) }

// add queues f; it never blocks.
func (q *workQueue) add(f func()) {
	q.init()
	q.mu.Lock()
	q.fns = append(q.fns, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run runs queued functions until ctx is done.
func (q *workQueue) run(ctx context.Context) {
	q.init()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		for _, f := range fns {
			f()
		}
	}
}
