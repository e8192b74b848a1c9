// Package stack is the network of a morgana image: Listen, Dial and
// ListenPacket return the standard library's net.Listener, net.Conn and
// net.PacketConn, so net/http, crypto/tls and any other Go server run on it
// unchanged, as they do on tsnet.
//
// Which network is behind these functions depends on where the image runs,
// not on how it was built:
//
//   - With a network device attached (morgana run --net NAME=TAP, or -p),
//     the TCP/IP stack is gVisor's netstack, linked into the image and
//     driving the device's frames. That is the unikernel: no host socket is
//     involved.
//   - Without one in a sandbox (hvt, spt), there is no network, and Default
//     says how to attach one (ErrNoDevice).
//   - Without one in unix mode, the host's sockets serve the same calls, so
//     `go run ./examples/...` works on a laptop with no root and no TAP.
//
// # The netstack
//
// A *Stack is gVisor's tcpip stack with one interface per netdev.Device and
// a loopback interface: IPv4 with ARP, IPv6 with neighbor discovery, a
// link-local address and SLAAC, ICMP (it answers ping), TCP with SACK,
// window scaling and receive-buffer auto-tuning, and UDP. A TCP connection
// talks to gVisor's endpoint itself, not through gonet's adapter: a
// deadline is a stored time, armed as a timer only while an operation
// blocks (net/http sets four per request), and reads and writes allocate
// nothing. UDP connections are gonet's, wrapped. Errors are the standard
// library's: a *net.OpError around an *os.SyscallError around the errno
// Linux would return, so errors.Is(err, syscall.ECONNREFUSED),
// net.ErrClosed and os.ErrDeadlineExceeded hold. TCP connections have
// keep-alive on, as Go's do. Host names are resolved by a small stub
// resolver over the stack itself (no /etc/resolv.conf in an image).
//
// The data path copies each frame once in each direction here: a device
// reads a received frame straight into the buffer that becomes gVisor's
// packet, and a packet to send, scattered over headers and payload, is
// gathered into one frame buffer; frames move in batches both ways.
//
// # The UDP fast path
//
// A server's UDP socket (ListenPacket: udp4, or udp on every address, on
// a port) has a fast path for IPv4 that skips gVisor's netstack, which
// costs a DNS server several times what answering does. The link
// endpoint's reader takes the datagrams to the socket's port that arrive
// unicast to one of the NIC's IPv4 addresses, from an ordinary unicast
// sender, without IP options and not fragmented: it checks the IP header
// and UDP checksums (the UDP one not when the virtio-net header says the
// host checked it or computes it; a UDP checksum of 0 means none, RFC 768)
// and copies the payload into the socket's queue, bounded by its receive
// buffer (gVisor's default, 212 KiB, with each datagram counted as its
// length plus 256 bytes; a datagram that does not fit is dropped and
// counted). WriteTo a peer the socket heard from in the last 30 s builds
// the frame itself: from the local address the peer wrote to, to the
// Ethernet source of the peer's last frame (its next hop), with the IPv4
// header Linux gives an unconnected UDP socket's datagram (DF, ID 0, TTL
// 64) and both checksums, written to the device as gVisor's packets are.
// The answer to a query thus leaves the way the query came in, whatever
// the routing table says.
//
// Everything else goes through gVisor as before, to the same socket:
// IPv6, IP options, fragments, broadcast and multicast, datagrams to ports
// without a fast socket (gVisor answers those with ICMP port unreachable),
// connected sockets (Dial), sockets bound to a device, WriteTo a peer not
// in the socket's cache (gVisor routes and resolves the neighbor) or too
// large for the MTU, and TCP. ReadFrom returns the datagrams of both
// paths, taking turns, with the same deadlines and errors. Since the
// fast path bypasses gVisor, gVisor's packet capture, iptables and
// statistics do not see its datagrams (Stack.FastPathStats counts them),
// and a datagram sent through gVisor may be overtaken by a later one sent
// on the fast path. Config.DisableUDPFastPath turns it off; Default's
// stack turns it off when the variable MORGANA_UDP_FASTPATH is 0, off or
// false (morgana run -e MORGANA_UDP_FASTPATH=off), for comparison.
//
// # Configuration
//
// Default configures the stack from, in order of precedence, the boot
// arguments (MirageOS's names: --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1
// --ipv6=fd00::2/64 --ipv6-gateway=fd00::1 --dns-servers=1.1.1.1,...), the
// addresses the monitor assigns (-p user-mode networking), and DHCP. Boot
// arguments configure the first NIC only; other NICs take the monitor's
// addresses or DHCP. The stack reads its arguments from os.Args itself, so
// the application's flag parsing does not matter; they are also defined on
// flag.CommandLine so that flag.Parse accepts them. Default waits up to
// 10 s for the first NIC's DHCP lease, then fails saying what to do. Its
// log is quiet unless -l names a level for the source "net" (-l
// net:debug), as bootflags.LogLevels reads it.
//
// Importing the package starts nothing and allocates next to nothing: the
// stack and its goroutines come with Default or New.
//
// Programs that want control (several stacks, their own addresses) build a
// *Stack themselves with New; the package-level functions use Default.
package stack
