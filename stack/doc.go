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
//   - Without one, in unix mode, the host's sockets serve the same calls, so
//     `go run ./examples/...` works on a laptop with no root and no TAP.
//
// Programs that want control (several stacks, their own addresses) build a
// *Stack themselves; the package-level functions use Default.
package stack
