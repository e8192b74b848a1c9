package stack

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// dnsServers are the resolvers the stack knows, from three sources, tried
// in this order: the configuration (boot arguments), DHCP leases, and
// IPv6 router advertisements (RDNSS, which expire).
type dnsServers struct {
	static []netip.Addr

	mu   sync.Mutex
	dhcp map[tcpip.NICID][]netip.Addr
	ra   []learned
}

// learned is a server from a router advertisement, valid until expiry.
type learned struct {
	addr   netip.Addr // with the NIC as zone when link-local
	nic    tcpip.NICID
	expiry time.Time
}

// setDHCP records the servers of nic's lease.
func (d *dnsServers) setDHCP(nic tcpip.NICID, servers []netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dhcp == nil {
		d.dhcp = make(map[tcpip.NICID][]netip.Addr)
	}
	if len(servers) == 0 {
		delete(d.dhcp, nic)
		return
	}
	d.dhcp[nic] = slices.Clone(servers)
}

// learn records (or, with an expiry in the past, forgets) a server from a
// router advertisement.
func (d *dnsServers) learn(a netip.Addr, nic tcpip.NICID, expiry time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ra = slices.DeleteFunc(d.ra, func(l learned) bool { return l.addr == a && l.nic == nic })
	if time.Now().Before(expiry) {
		d.ra = append(d.ra, learned{addr: a, nic: nic, expiry: expiry})
	}
}

// server is a resolver to query, with the NIC to reach it through when
// its address is link-local.
type server struct {
	addr netip.Addr
	nic  tcpip.NICID
}

// list returns the servers to try, in order, without duplicates.
func (d *dnsServers) list(now time.Time) []server {
	var out []server
	add := func(a netip.Addr, nic tcpip.NICID) {
		for _, s := range out {
			if s.addr == a {
				return
			}
		}
		out = append(out, server{addr: a, nic: nic})
	}
	for _, a := range d.static {
		add(a, 0)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]tcpip.NICID, 0, len(d.dhcp))
	for id := range d.dhcp {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, a := range d.dhcp[id] {
			add(a, 0)
		}
	}
	for _, l := range d.ra {
		if now.Before(l.expiry) {
			nic := tcpip.NICID(0)
			if l.addr.IsLinkLocalUnicast() {
				nic = l.nic
			}
			add(l.addr, nic)
		}
	}
	return out
}

// DNSServers returns the resolvers Dial uses, in the order it tries them.
func (s *Stack) DNSServers() []netip.Addr {
	var out []netip.Addr
	for _, sv := range s.dns.list(time.Now()) {
		out = append(out, sv.addr)
	}
	return out
}
