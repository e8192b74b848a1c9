package stack

import (
	"errors"
	"net/netip"
)

// Inline answers: a server whose answer to a datagram is quick work on
// the datagram alone (DNS is the example) can have the NIC's reader
// goroutine call it for each datagram of the fast path, instead of the
// datagram waiting in the socket's queue for a reader goroutine to be
// scheduled. On a one-vCPU guest that hand-over, and the wake-up of the
// poller when the queue empties, are most of what a datagram costs beyond
// the answer itself.

// InlineHandler answers one datagram: req is its payload and from its
// sender, and reply sends an answer back the way the datagram came (the
// same NIC, from the address it was sent to). req and reply are valid
// only until the handler returns. The handler runs on the goroutine that
// reads the NIC: it must not block, and while it runs no other frame of
// that NIC is received.
type InlineHandler = func(req []byte, from netip.AddrPort, reply func(resp []byte) error)

// ServeInline has h answer the datagrams of the fast path as they arrive
// (IPv4 unicast, see udpfast.go), until it is called again with nil or the
// conn is closed; the others still come through ReadFrom, which a server
// should go on calling. It reports false, and changes nothing, when the
// conn has no fast path.
func (c *UDPConn) ServeInline(h InlineHandler) bool {
	if c.fast == nil {
		return false
	}
	if h == nil {
		c.fast.inline.Store(nil)
	} else {
		c.fast.inline.Store(&h)
	}
	return true
}

// errInlineTooLong is a reply that does not fit the NIC's MTU.
var errInlineTooLong = errors.New("stack: reply longer than the link's MTU")

// takeInline has h answer datagram d, which arrived on e.
func (e *linkEndpoint) takeInline(h InlineHandler, d *udp4Datagram) {
	// The answer's headers, for reply: set here, on the reader goroutine,
	// the only one that calls e.reply.
	e.inlineOut = udp4Out{dstMAC: d.srcMAC, src: d.dst, dst: d.src, srcPort: d.dstPort, dstPort: d.srcPort}
	e.fast.received.Add(1)
	e.fast.inline.Add(1)
	h(d.udp.Payload(), netip.AddrPortFrom(netip.AddrFrom4(d.src), d.srcPort), e.inlineReply)
}

// reply sends b to the sender of the datagram being answered inline.
func (e *linkEndpoint) reply(b []byte) error {
	if len(b)+udp4Overhead > e.ipMTU() {
		return errInlineTooLong
	}
	o := e.inlineOut
	o.payload = b
	if err := e.sendUDP4(&o); err != nil {
		return errors.New(err.String())
	}
	return nil
}
