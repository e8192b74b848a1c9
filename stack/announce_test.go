package stack

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/morgana-os/morgana/netdev"
	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// TestAnnounce checks that a NIC taking an IPv4 address says so to its
// neighbors with an ARP announcement.
func TestAnnounce(t *testing.T) {
	dev, peer := netdevtest.Pipe(macA, macB, 1500)
	newStack(t, Config{NICs: []NICConfig{{Device: dev, IPv4: ip4A}}})
	ip := ip4A.Addr().As4()
	frames, sizes := [][]byte{make([]byte, 1514)}, []int{0}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := peer.Read(frames, sizes); err != nil {
			t.Fatal(err)
		}
		f := frames[0][:sizes[0]]
		eth := header.Ethernet(f)
		if len(f) < netdev.EthernetHeaderLen+header.ARPSize || eth.Type() != header.ARPProtocolNumber {
			continue
		}
		arp := header.ARP(f[netdev.EthernetHeaderLen:])
		if eth.DestinationAddress() == header.EthernetBroadcastAddress && arp.Op() == header.ARPRequest &&
			bytes.Equal(arp.HardwareAddressSender(), macA) &&
			bytes.Equal(arp.ProtocolAddressSender(), ip[:]) && bytes.Equal(arp.ProtocolAddressTarget(), ip[:]) {
			return
		}
	}
	t.Fatalf("no ARP announcement of %v", netip.AddrFrom4(ip))
}
