package dhcp

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestLeaseFrom(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	peer := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: ServerPort}
	ack := func(mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(mac), dhcpv4.WithMessageType(dhcpv4.MessageTypeAck)}, mods...)...)
		if err != nil {
			t.Fatal(err)
		}
		// Through the wire format and back, as the client gets it.
		m, err = dhcpv4.FromBytes(m.ToBytes())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	yi := dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 50))
	tests := []struct {
		name   string
		ack    *dhcpv4.DHCPv4
		ok     bool
		addr   string
		router string
		dns    []string
		server string
		d      time.Duration
		t1, t2 time.Duration
	}{
		{"full", ack(yi, dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 0, 0, 1))),
			dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(10, 0, 0, 1), net.IPv4(9, 9, 9, 9))),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 2))),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(time.Hour)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(10*time.Minute)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(20*time.Minute))),
			true, "10.0.0.50/24", "10.0.0.1", []string{"10.0.0.1", "9.9.9.9"}, "10.0.0.2", time.Hour, 10 * time.Minute, 20 * time.Minute},
		// No mask: the class's; no server identifier: the sender; no
		// times: an hour, renewed at half, rebound at 7/8.
		{"defaults", ack(yi), true, "10.0.0.50/8", "invalid IP", nil, "10.0.0.1", time.Hour, 30 * time.Minute, 52*time.Minute + 30*time.Second},
		// T1 after T2 and T2 after the lease are ignored.
		{"bad times", ack(yi, dhcpv4.WithNetmask(net.CIDRMask(16, 32)),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(100*time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(90*time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(200*time.Second))),
			true, "10.0.0.50/16", "invalid IP", nil, "10.0.0.1", 100 * time.Second, 50 * time.Second, 87500 * time.Millisecond},
		{"no address", ack(), false, "", "", nil, "", 0, 0, 0},
		{"bad mask", ack(yi, dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionSubnetMask, []byte{255, 0, 255, 0}))), false, "", "", nil, "", 0, 0, 0},
	}
	now := time.Now()
	for _, tt := range tests {
		l, err := leaseFrom(tt.ack, peer, now)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		var dns []string
		for _, a := range l.DNS {
			dns = append(dns, a.String())
		}
		if l.Address.String() != tt.addr || l.Router.String() != tt.router || !slices.Equal(dns, tt.dns) || l.Server.String() != tt.server {
			t.Errorf("%s: %v, want %s router %s dns %v server %s", tt.name, l, tt.addr, tt.router, tt.dns, tt.server)
		}
		if l.Duration != tt.d || l.T1 != tt.t1 || l.T2 != tt.t2 || !l.Acquired.Equal(now) {
			t.Errorf("%s: lease %v T1 %v T2 %v, want %v %v %v", tt.name, l.Duration, l.T1, l.T2, tt.d, tt.t1, tt.t2)
		}
	}
	if !(Lease{Address: netip.MustParsePrefix("10.0.0.5/24")}).SameConfig(Lease{Address: netip.MustParsePrefix("10.0.0.5/24"), Duration: time.Hour}) {
		t.Error("SameConfig compares more than the configuration")
	}
}
