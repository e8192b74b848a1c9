// Package usernet is user-mode networking for `morgana run -p HOST:GUEST`:
// a guest's ports published on the host, as `docker run -p` publishes a
// container's, with no root, no TAP device and no bridge.
//
// The image has a TCP/IP stack of its own (gVisor's netstack) driving a
// virtual NIC; the monitor moves that NIC's Ethernet frames to and from a
// host descriptor. With user-mode networking the descriptor is one end of a
// SOCK_SEQPACKET socket pair, and this package serves the other end: a
// second netstack, in the monitor, plays the guest's gateway on a private
// link, as slirp and gvisor-tap-vsock do. Nothing here parses TCP by hand:
// netstack terminates the guest's connections and the monitor splices them
// to ordinary host sockets, so the host kernel sees only a process that
// listens and dials.
//
// The link is fixed, as slirp's is (see Guest4, Gateway4, DNS4): the monitor
// tells the image its address, and answers DHCP for images that ask.
//
//   - Each -p TCP forward is a host listener; an accepted connection becomes
//     a connection from the gateway to the guest's port, copied both ways
//     with half-closes passed on.
//   - Each -p UDP forward is a host socket; each client address gets a flow
//     to the guest's port that ends after an idle time.
//   - With Config.Outbound, the guest's own connections and datagrams to any
//     address leave through host sockets (the gateway's address means the
//     host's loopback), and DNS queries to DNS4 go to the host's resolver.
//
// The gateway is a poor target for a guest that misbehaves: frames it cannot
// parse are dropped, and frames for a guest that stops reading wait in a
// bounded queue and are then dropped, as a NIC drops them, so the monitor's
// memory does not grow with what the guest does.
package usernet
