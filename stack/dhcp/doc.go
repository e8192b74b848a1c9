// Package dhcp is the DHCPv4 client (RFC 2131) of morgana's network stack:
// an image with no address on its command line asks the network for one,
// as a VM on a libvirt or Firecracker bridge expects to.
//
// The client is deliberately small: DISCOVER, OFFER, REQUEST, ACK; renewal
// at T1 (unicast to the server), rebinding at T2 (broadcast), a fresh start
// when the lease runs out or a server answers NAK. It knows nothing of the
// TCP/IP stack it runs on: it sends and receives on a net.PacketConn bound
// to port 68 on one interface, and reports leases through callbacks, so
// the stack applies them and tests can drive it over any connection. The
// wire format is github.com/insomniacslk/dhcp/dhcpv4's.
package dhcp
