// Package hostdev is the host side of morgana's devices: it parses the
// --net and --block flags of `morgana run`, opens the TAP devices and
// disk images behind them, checks them against the image's manifest, and
// describes them to the guest (abi.Device). Every mode starts here; hvt
// then serves the descriptors from the monitor, spt and unix hand them to
// the guest process as they are.
package hostdev
