package usernet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartBindConflict: a host port already taken fails Start with the
// error of the listen call, naming the flag; the forwards bound before it
// are released, and the link is closed.
func TestStartBindConflict(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer takenUDP.Close()
	free := freePort(t)
	tport := taken.Addr().(*net.TCPAddr).Port
	uport := takenUDP.LocalAddr().(*net.UDPAddr).Port

	for _, tt := range []struct {
		flag string
		want string
	}{
		{fmt.Sprintf("127.0.0.1:%d:80", tport), fmt.Sprintf("-p 127.0.0.1:%d:80: listen tcp 127.0.0.1:%d: bind: address already in use", tport, tport)},
		{fmt.Sprintf("127.0.0.1:%d:53/udp", uport), fmt.Sprintf("-p 127.0.0.1:%d:53/udp: listen udp 127.0.0.1:%d: bind: address already in use", uport, uport)},
	} {
		first, err := ParseForward(fmt.Sprintf("127.0.0.1:%d:8080", free))
		if err != nil {
			t.Fatal(err)
		}
		fwd, err := ParseForward(tt.flag)
		if err != nil {
			t.Fatal(err)
		}
		mon, gst, err := Socketpair()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Start(mon, Config{Forwards: []Forward{first, fwd}, Log: testLog(t)})
		if err == nil {
			n.Close()
			gst.Close()
			t.Fatalf("Start with %s succeeded", tt.flag)
		}
		if err.Error() != tt.want || !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Start error:\n  %v\nwant\n  %s (wrapping EADDRINUSE)", err, tt.want)
		}
		// The first forward's port is free again.
		if ln, err := net.Listen("tcp", first.HostAddr.String()); err != nil {
			t.Errorf("first forward's port still taken: %v", err)
		} else {
			ln.Close()
		}
		// The link was closed: the guest's end reads EOF.
		f, err := pollable(gst)
		if err != nil {
			t.Fatal(err)
		}
		f.SetReadDeadline(time.Now().Add(5 * time.Second))
		if m, err := f.Read(make([]byte, 100)); m != 0 || err != io.EOF {
			t.Errorf("guest end read %d, %v; want EOF", m, err)
		}
		f.Close()
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestStartBadConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{MTU: 100}, "MTU 100 is out of range"},
		{Config{MTU: MaxMTU + 1}, "out of range"},
		{Config{Forwards: []Forward{{Proto: "sctp", HostAddr: tcpFwd("127.0.0.1:0", 1).HostAddr, GuestPort: 1}}}, `-p 127.0.0.1:0:1/sctp: protocol "sctp" is not tcp or udp`},
		{Config{Forwards: []Forward{{Proto: TCP, GuestPort: 1}}}, "no host address"},
		{Config{Forwards: []Forward{tcpFwd("127.0.0.1:0", 0)}}, "-p 127.0.0.1:0:0: guest port 0"},
	} {
		mon, gst, err := Socketpair()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Start(mon, tt.cfg)
		gst.Close()
		if err == nil {
			n.Close()
			t.Errorf("Start(%+v) succeeded, want %q", tt.cfg, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Start(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}
