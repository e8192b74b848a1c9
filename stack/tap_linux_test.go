//go:build linux

package stack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/internal/testenv"
	"github.com/morgana-os/morgana/netdev"
)

// tapDevice is a netdev.Device over a Linux TAP, for this test only: the
// monitor's TAP belongs to the monitor, and the guest reaches it through
// netdev.Open. The interface lives as long as the descriptor.
type tapDevice struct {
	f      *os.File
	name   string
	mac    net.HardwareAddr
	vnet   bool
	closed atomic.Bool
	// The largest frames read and written, to see offload at work.
	maxRead, maxWritten frameRecorder
}

// openTAP creates the TAP name; with vnet, its frames carry virtio-net
// headers and the kernel offloads checksums and TCP segmentation to it,
// as the monitor opens TAPs.
func openTAP(name string, mac net.HardwareAddr, vnet bool) (*tapDevice, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if vnet {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, err)
	}
	if vnet {
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("TUNSETOFFLOAD %s: %w", name, err)
		}
	}
	// Non-blocking, the descriptor waits in Go's poller.
	return &tapDevice{f: os.NewFile(uintptr(fd), "tap:"+name), name: name, mac: mac, vnet: vnet}, nil
}

func (d *tapDevice) Name() string          { return d.name }
func (d *tapDevice) MAC() net.HardwareAddr { return d.mac }
func (d *tapDevice) MTU() int              { return 1500 }
func (d *tapDevice) Vnet() bool            { return d.vnet }
func (d *tapDevice) FrameLen() int         { return netdev.Info{MTU: 1500, Vnet: d.vnet}.FrameLen() }

func (d *tapDevice) Read(frames [][]byte, sizes []int) (int, error) {
	n, err := d.f.Read(frames[0])
	if err != nil {
		if d.closed.Load() || errors.Is(err, os.ErrClosed) {
			return 0, netdev.ErrClosed
		}
		return 0, err
	}
	sizes[0] = n
	d.maxRead.record(n)
	return 1, nil
}

func (d *tapDevice) Write(frames [][]byte) (int, error) {
	for i, f := range frames {
		d.maxWritten.record(len(f))
		if _, err := d.f.Write(f); err != nil {
			if d.closed.Load() {
				return i, netdev.ErrClosed
			}
			return i, err
		}
	}
	return len(frames), nil
}

func (d *tapDevice) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.f.Close()
}

// run runs a command of the test's setup, failing the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestDHCPTAP runs the stack on a real TAP against dnsmasq: DHCP assigns
// the address, router and DNS server; dnsmasq's router advertisements
// give it an IPv6 address by SLAAC; the host pings it over both families
// and talks TCP to it. It does so on a plain TAP and on one with
// virtio-net headers, where the kernel and the stack exchange 64 KiB TCP
// segments with partial checksums.
func TestDHCPTAP(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) { testDHCPTAP(t, vnet) })
	}
}

func testDHCPTAP(t *testing.T, vnet bool) {
	testenv.MustHaveNetAdmin(t)
	dnsmasq := testenv.MustHaveCommand(t, "dnsmasq")
	pingCmd := testenv.MustHaveCommand(t, "ping")

	name := fmt.Sprintf("mgst%d", os.Getpid()%1000000)
	const (
		hostIP4 = "10.213.0.1"
		hostIP6 = "fd99:213::1"
	)
	tap, err := openTAP(name, net.HardwareAddr{0x02, 0x4d, 0x47, 0, 0, 0x02}, vnet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tap.Close() // the interface goes with its last descriptor
		exec.Command("ip", "link", "del", name).Run()
	})
	// Without duplicate address detection, the host's link-local address
	// is valid at once, and so are dnsmasq's first router advertisements,
	// which must come from it (RFC 4861 6.1.2).
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/accept_dad", []byte("0"), 0); err != nil {
		t.Logf("host DAD stays on: %v", err)
	}
	run(t, "ip", "addr", "add", hostIP4+"/24", "dev", name)
	run(t, "ip", "addr", "add", hostIP6+"/64", "dev", name, "nodad")
	run(t, "ip", "link", "set", name, "up")

	dir := t.TempDir()
	cmd := exec.Command(dnsmasq,
		"--keep-in-foreground", "--conf-file=/dev/null", "--log-facility=-", "--log-dhcp",
		"--user=root", "--port=0", "--no-resolv", "--no-hosts", "--no-ping",
		"--interface="+name, "--bind-interfaces", "--except-interface=lo",
		"--dhcp-range=10.213.0.100,10.213.0.150,255.255.255.0,2m",
		"--dhcp-option=option:dns-server,"+hostIP4,
		"--enable-ra", "--dhcp-range=::,constructor:"+name+",ra-only,64,2m",
		"--dhcp-leasefile="+filepath.Join(dir, "leases"),
		"--pid-file="+filepath.Join(dir, "pid"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", log.String())
		}
	})

	s := newStack(t, Config{NICs: []NICConfig{{Device: tap, DHCP: true}}})
	if err := s.WaitDHCP(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	var leased netip.Addr
	for _, p := range s.Interfaces()[0].Addrs {
		if p.Bits() == 24 && p.Masked() == netip.MustParsePrefix("10.213.0.0/24") {
			leased = p.Addr()
		}
	}
	if !leased.IsValid() {
		t.Fatalf("no address in 10.213.0.0/24 after DHCP: %+v", s.Interfaces())
	}
	if !slices.Contains(s.DNSServers(), netip.MustParseAddr(hostIP4)) {
		t.Errorf("DNS servers %v, want %s from DHCP", s.DNSServers(), hostIP4)
	}
	run(t, pingCmd, "-c", "1", "-W", "5", leased.String())

	// The host talks TCP to the stack.
	l, err := s.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echo(t, l)
	c, err := net.DialTimeout("tcp", hostPort(leased, l.Addr().(*net.TCPAddr).Port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	want := bytes.Repeat([]byte("morgana "), 100000)
	go c.Write(want)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Errorf("echo from the stack over the TAP: %v", err)
	}
	if r, w := tap.maxRead.max.Load(), tap.maxWritten.max.Load(); vnet && (r < 8000 || w < 8000) {
		t.Errorf("largest frames %d bytes read, %d written: want segmentation offload both ways", r, w)
	} else if !vnet && (r > 1514 || w > 1514) {
		t.Errorf("largest frames %d bytes read, %d written on a 1500-byte link", r, w)
	}

	// IPv6: a SLAAC address from dnsmasq's router advertisements, and the
	// link-local one.
	var slaac netip.Addr
	waitFor(t, 15*time.Second, "SLAAC address in fd99:213::/64", func() bool {
		for _, p := range s.Interfaces()[0].Addrs {
			if netip.MustParsePrefix("fd99:213::/64").Contains(p.Addr()) && s.hasUsableAddr(p.Addr()) {
				slaac = p.Addr()
				return true
			}
		}
		return false
	})
	run(t, pingCmd, "-6", "-c", "1", "-W", "5", slaac.String())
	run(t, pingCmd, "-6", "-c", "1", "-W", "5", linkLocal(tap.mac).String()+"%"+name)
}
