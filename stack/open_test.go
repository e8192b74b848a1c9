package stack

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/morgana-os/morgana/bootflags"
	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
)

func netdevInfo(name string, ipv4 netip.Prefix, gw netip.Addr, dns ...netip.Addr) netdev.Info {
	return netdev.Info{Name: name, MAC: macA, MTU: 1500, IPv4: ipv4, IPv4Gateway: gw, DNS: dns}
}

// world replaces what open reads for the length of a test: the attached
// devices (one end of a pipe each, whose other ends it returns), sandbox
// mode, the boot arguments.
func world(t *testing.T, infos []netdev.Info, sandboxed bool, args ...string) (peers []netdev.Device) {
	devs := map[string]netdev.Device{}
	for _, info := range infos {
		d, peer := netdevtest.Pipe(info.MAC, macB, info.MTU)
		devs[info.Name] = d
		peers = append(peers, peer)
		t.Cleanup(func() { peer.Close() })
	}
	saved := []any{netdevList, netdevSandboxed, netdevOpen, bootArguments, dhcpWait}
	t.Cleanup(func() {
		netdevList = saved[0].(func() []netdev.Info)
		netdevSandboxed = saved[1].(func() bool)
		netdevOpen = saved[2].(func(string) (netdev.Device, error))
		bootArguments = saved[3].(func() []string)
		dhcpWait = saved[4].(time.Duration)
	})
	netdevList = func() []netdev.Info { return infos }
	netdevSandboxed = func() bool { return sandboxed }
	netdevOpen = func(name string) (netdev.Device, error) {
		if d, ok := devs[name]; ok {
			return d, nil
		}
		return nil, errors.New("no such device")
	}
	bootArguments = func() []string { return args }
	return peers
}

func TestOpenWithoutDevices(t *testing.T) {
	world(t, nil, false)
	n, err := open()
	if _, ok := n.(Host); !ok || err != nil {
		t.Errorf("unix mode: open() = %T, %v; want Host", n, err)
	}
	world(t, nil, true)
	n, err = open()
	if !errors.Is(err, ErrNoDevice) || n != nil {
		t.Fatalf("sandbox: open() = %v, %v; want ErrNoDevice", n, err)
	}
	if !strings.Contains(err.Error(), "--net service=TAPDEV or -p HOST:GUEST") {
		t.Errorf("error %q does not say how to attach a device", err)
	}
}

// open returns a *Stack, configured from the monitor's addresses, the
// boot arguments, or DHCP, in that order of precedence.
func TestOpenStack(t *testing.T) {
	monitor := netdevInfo("service", netip.MustParsePrefix("10.0.2.15/24"), netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("10.0.2.3"))
	tests := []struct {
		name string
		args []string
		want netip.Prefix
		dns  []netip.Addr
	}{
		{"monitor", nil, netip.MustParsePrefix("10.0.2.15/24"), []netip.Addr{netip.MustParseAddr("10.0.2.3")}},
		{"boot arguments", []string{"-v", "--ipv4", "10.1.0.2/16", "--dns-servers=1.1.1.1"}, netip.MustParsePrefix("10.1.0.2/16"),
			[]netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("10.0.2.3")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			world(t, []netdev.Info{monitor}, true, tt.args...)
			n, err := open()
			if err != nil {
				t.Fatal(err)
			}
			s := n.(*Stack)
			defer s.Close()
			if !hasPrefix(s, tt.want) {
				t.Errorf("interfaces %+v, want %v", s.Interfaces(), tt.want)
			}
			if !slices.Equal(s.DNSServers(), tt.dns) {
				t.Errorf("DNS servers %v, want %v", s.DNSServers(), tt.dns)
			}
		})
	}
	t.Run("bad boot arguments", func(t *testing.T) {
		world(t, []netdev.Info{monitor}, true, "--ipv4=10.0.0.300/24")
		if _, err := open(); err == nil || !strings.Contains(err.Error(), "--ipv4") {
			t.Errorf("open() = %v, want an error about --ipv4", err)
		}
	})
}

// TestOpenDHCP: with nothing configured, open waits for DHCP, and says
// what to do when no lease comes.
func TestOpenDHCP(t *testing.T) {
	plain := netdevInfo("service", netip.Prefix{}, netip.Addr{})
	t.Run("lease", func(t *testing.T) {
		peers := world(t, []netdev.Info{plain}, true)
		srvIP := netip.MustParsePrefix("192.168.7.1/24")
		srv := newStack(t, Config{NICs: []NICConfig{{Device: peers[0], IPv4: srvIP}}})
		(&testDHCPServer{ip: srvIP, lease: time.Hour}).start(t, srv)
		n, err := open()
		if err != nil {
			t.Fatal(err)
		}
		s := n.(*Stack)
		defer s.Close()
		if !hasPrefix(s, netip.MustParsePrefix("192.168.7.100/24")) {
			t.Errorf("interfaces %+v, want the lease", s.Interfaces())
		}
		// The first Listen has the address.
		l, err := s.Listen(ctxTimeout(t, time.Second), "tcp", "192.168.7.100:0")
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	})
	t.Run("no server", func(t *testing.T) {
		world(t, []netdev.Info{plain}, true)
		dhcpWait = 200 * time.Millisecond
		_, err := open()
		if err == nil || !strings.Contains(err.Error(), `no DHCP lease on NIC "service"`) || !strings.Contains(err.Error(), "--ipv4=ADDR/LEN") {
			t.Errorf("open() = %v, want an error that says what to do", err)
		}
	})
}

func TestConfigFor(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	flags, err := parseBootArgs([]string{"--ipv4=10.1.0.2/24", "--ipv6=fd00::2/64", "--dns-servers=1.1.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := parseBootArgs(nil)
	monitor := netdevInfo("service", p("10.0.2.15/24"), a("10.0.2.2"), a("10.0.2.3"))
	plain := netdevInfo("other", netip.Prefix{}, netip.Addr{})
	tests := []struct {
		name  string
		infos []netdev.Info
		flags *bootflags.Network
		want  []NICConfig
		dns   []netip.Addr
	}{
		{"flags win", []netdev.Info{monitor, plain}, flags,
			[]NICConfig{{IPv4: p("10.1.0.2/24"), IPv6: p("fd00::2/64")}, {DHCP: true}},
			[]netip.Addr{a("1.1.1.1"), a("10.0.2.3")}},
		{"monitor", []netdev.Info{monitor}, none,
			[]NICConfig{{IPv4: p("10.0.2.15/24"), IPv4Gateway: a("10.0.2.2")}},
			[]netip.Addr{a("10.0.2.3")}},
		{"dhcp", []netdev.Info{plain, monitor}, none,
			[]NICConfig{{DHCP: true}, {IPv4: p("10.0.2.15/24"), IPv4Gateway: a("10.0.2.2")}},
			[]netip.Addr{a("10.0.2.3")}},
	}
	for _, tt := range tests {
		cfg := configFor(tt.infos, tt.flags)
		if !slices.Equal(cfg.NICs, tt.want) || !slices.Equal(cfg.DNSServers, tt.dns) {
			t.Errorf("%s: NICs %+v DNS %v; want %+v %v", tt.name, cfg.NICs, cfg.DNSServers, tt.want, tt.dns)
		}
	}
}
