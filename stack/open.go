package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/morgana-os/morgana/bootflags"
	"github.com/morgana-os/morgana/netdev"
)

// What open reads of the world, as variables that tests replace.
var (
	netdevList      = netdev.List
	netdevSandboxed = netdev.Sandboxed
	netdevOpen      = netdev.Open
	bootArguments   = func() []string { return os.Args[1:] }
	dhcpWait        = 10 * time.Second
)

// ErrNoDevice is Default's error in a sandbox (hvt, spt) without a
// network device: there is no network at all.
var ErrNoDevice = errors.New("no network device attached: run with --net service=TAPDEV or -p HOST:GUEST")

// open picks the default network: netstack over the attached devices;
// none in a sandbox is an error; none in unix mode means the host's
// sockets.
func open() (Network, error) {
	infos := netdevList()
	if len(infos) == 0 {
		if netdevSandboxed() {
			return nil, ErrNoDevice
		}
		return Host{}, nil
	}
	args := bootArguments()
	flags, err := parseBootArgs(args)
	if err != nil {
		return nil, fmt.Errorf("stack: boot arguments: %w", err)
	}
	cfg := configFor(infos, flags)
	cfg.Logger = bootLogger(args)
	switch strings.ToLower(os.Getenv("MORGANA_UDP_FASTPATH")) {
	case "0", "off", "false":
		cfg.DisableUDPFastPath = true
	}
	for i, info := range infos {
		dev, err := netdevOpen(info.Name)
		if err != nil {
			for _, nc := range cfg.NICs[:i] {
				nc.Device.Close()
			}
			return nil, fmt.Errorf("stack: %w", err)
		}
		cfg.NICs[i].Device = dev
	}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dhcpWait)
	defer cancel()
	if err := s.WaitDHCP(ctx); err != nil {
		first := cfg.NICs[0]
		if first.DHCP && !first.IPv6.IsValid() && !s.nics[0].hasLease() {
			s.Close()
			return nil, fmt.Errorf("stack: no DHCP lease on NIC %q after %v: run a DHCP server on its network, or give the address: --ipv4=ADDR/LEN --ipv4-gateway=ADDR",
				infos[0].Name, dhcpWait)
		}
		cfg.Logger.Warn("still waiting for DHCP", "err", err)
	}
	return s, nil
}

// configFor configures the NICs of infos. Addresses come from the boot
// arguments, which apply to the first NIC only, then from the monitor
// (user-mode networking assigns them), then from DHCP.
func configFor(infos []netdev.Info, flags *bootflags.Network) Config {
	cfg := Config{DNSServers: flags.DNSServers}
	for i, info := range infos {
		var nc NICConfig
		switch {
		case i == 0 && flags.IPv4.IsValid():
			nc.IPv4, nc.IPv4Gateway = flags.IPv4, flags.IPv4Gateway
		case info.IPv4.IsValid():
			nc.IPv4, nc.IPv4Gateway = info.IPv4, info.IPv4Gateway
			if i == 0 && flags.IPv4Gateway.IsValid() {
				nc.IPv4Gateway = flags.IPv4Gateway
			}
		default:
			nc.DHCP = true
		}
		if i == 0 {
			nc.IPv6, nc.IPv6Gateway = flags.IPv6, flags.IPv6Gateway
		}
		cfg.DNSServers = append(cfg.DNSServers, info.DNS...)
		cfg.NICs = append(cfg.NICs, nc)
	}
	return cfg
}
