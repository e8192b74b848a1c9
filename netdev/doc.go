// Package netdev is the guest side of a morgana network device: Ethernet
// frames in and out of a NIC that the monitor attached by name, as Solo5
// attaches them (`morgana run --net service=tap0`, or `-p` for user-mode
// networking).
//
// The same image runs in every mode. In hvt the frames travel through
// rings in memory shared with the monitor; in spt and unix the device is a
// host descriptor (a TAP, or one end of a socket pair). Device hides which.
package netdev
