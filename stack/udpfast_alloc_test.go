package stack

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev"
)

// memDevice is a NIC that allocates nothing: the test hands it frames to
// read (in) and takes the frames written (out), copied into buffers of its
// own.
type memDevice struct {
	mac  net.HardwareAddr
	vnet bool
	in   chan []byte
	out  chan []byte // of bufs, in turn
	bufs [][]byte
	next int
	done chan struct{}
	once sync.Once
}

func newMemDevice(mac net.HardwareAddr, vnet bool) *memDevice {
	d := &memDevice{mac: mac, vnet: vnet, in: make(chan []byte), out: make(chan []byte, 64), done: make(chan struct{})}
	d.bufs = make([][]byte, 128)
	for i := range d.bufs {
		d.bufs[i] = make([]byte, d.FrameLen())
	}
	return d
}

func (d *memDevice) Name() string          { return "mem" }
func (d *memDevice) MAC() net.HardwareAddr { return d.mac }
func (d *memDevice) MTU() int              { return 1500 }
func (d *memDevice) Vnet() bool            { return d.vnet }
func (d *memDevice) FrameLen() int         { return netdev.Info{MTU: 1500, Vnet: d.vnet}.FrameLen() }
func (d *memDevice) Close() error          { d.once.Do(func() { close(d.done) }); return nil }

func (d *memDevice) Read(frames [][]byte, sizes []int) (int, error) {
	select {
	case f := <-d.in:
		sizes[0] = copy(frames[0], f)
		return 1, nil
	case <-d.done:
		return 0, netdev.ErrClosed
	}
}

func (d *memDevice) Write(frames [][]byte) (int, error) {
	for _, f := range frames {
		b := d.bufs[d.next%len(d.bufs)]
		d.next++
		select {
		case d.out <- b[:copy(b, f)]:
		default: // nobody reads: dropped
		}
	}
	return len(frames), nil
}

// TestUDPFastPathAllocs pins the allocations of a datagram's round trip
// on the fast path, from the device to the server and back to the device:
// none with ReadFromUDPAddrPort and WriteToUDPAddrPort (the calls of
// net.UDPConn that allocate nothing, which the DNS server uses), the
// *net.UDPAddr alone with ReadFrom and WriteTo.
func TestUDPFastPathAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over many round trips")
	}
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) {
			dev := newMemDevice(macB, vnet)
			s := newStack(t, Config{NICs: []NICConfig{{Device: dev, IPv4: ip4Stack}}})
			pc, err := s.ListenPacket(ctxTimeout(t, time.Second), "udp4", ":53")
			if err != nil {
				t.Fatal(err)
			}
			c := pc.(*UDPConn)
			defer c.Close()
			r := rawUDP{srcMAC: macA, dstMAC: macB, src: ip4Raw.Addr(), dst: ip4Stack.Addr(),
				srcPort: 40000, dstPort: 53, payload: make([]byte, 40)}
			query := r.frame()
			if vnet {
				query = append(make([]byte, netdev.VnetHdrLen), query...)
			}
			buf := make([]byte, 512)
			answer := make([]byte, 100)
			// roundTrip feeds the query in, reads it, answers, and waits
			// for the answer's frame (gVisor's own frames, IPv6 router
			// solicitations and the like, are passed over).
			roundTrip := func(addrPort bool) {
				dev.in <- query
				if addrPort {
					_, from, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						t.Fatal(err)
					}
					c.WriteToUDPAddrPort(answer, from)
				} else {
					_, from, err := c.ReadFrom(buf)
					if err != nil {
						t.Fatal(err)
					}
					c.WriteTo(answer, from)
				}
				for {
					f := <-dev.out
					if vnet {
						f = f[netdev.VnetHdrLen:]
					}
					if len(f) > 36 && binary.BigEndian.Uint16(f[34:]) == 53 {
						return
					}
				}
			}
			for range 100 { // warm up: buffers, the peer's entry
				roundTrip(true)
			}
			const runs = 2000
			before := s.FastPathStats()
			for _, tc := range []struct {
				name     string
				addrPort bool
				max      float64
			}{
				{"ReadFromUDPAddrPort/WriteToUDPAddrPort", true, 0},
				{"ReadFrom/WriteTo", false, 2}, // the *net.UDPAddr and its IP
			} {
				n := testing.AllocsPerRun(runs, func() { roundTrip(tc.addrPort) })
				t.Logf("%s: %v allocations per round trip", tc.name, n)
				if n > tc.max {
					t.Errorf("%s: %v allocations per round trip, want at most %v", tc.name, n, tc.max)
				}
			}
			const trips = 2 * (runs + 1) // AllocsPerRun runs f once more, first
			if d := diffStats(s.FastPathStats(), before); d.Received != trips || d.Sent != trips || d.WriteMisses != 0 {
				t.Errorf("not all by the fast path: %+v", d)
			}
		})
	}
}

// TestDatagramQueueBurstAllocs: once a queue has held a burst, another as
// large allocates nothing; the buffers are kept, not the GC's.
func TestDatagramQueueBurstAllocs(t *testing.T) {
	q := datagramQueue{limit: 212 << 10}
	p := make([]byte, 60)
	buf := make([]byte, 100)
	burst := func() {
		for range 500 {
			if _, ok := q.push(p, netip.AddrPort{}); !ok {
				t.Fatal("queue full")
			}
		}
		for range 500 {
			if _, _, ok := q.pop(buf); !ok {
				t.Fatal("queue empty")
			}
		}
	}
	burst()
	if n := testing.AllocsPerRun(20, burst); n != 0 {
		t.Errorf("%v allocations per burst of 500 datagrams", n)
	}
}
