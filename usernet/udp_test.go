package usernet

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestUDPForward: two host clients through one UDP forward to an echo
// server in the guest, each getting its own replies.
func TestUDPForward(t *testing.T) {
	n, g := startPair(t, Config{Forwards: []Forward{udpFwd("127.0.0.1:0", 5353)}})
	srv := g.listenUDP(t, 5353)
	go func() {
		buf := make([]byte, 2048)
		for {
			m, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(append([]byte("echo "), buf[:m]...), from)
		}
	}()

	for client := range 2 {
		c, err := net.Dial("udp", hostAddr(n, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range 3 {
			msg := fmt.Sprintf("client %d datagram %d", client, i)
			if got, err := udpRoundTrip(c, msg); err != nil {
				t.Fatal(err)
			} else if want := "echo " + msg; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	}
}

// udpRoundTrip sends msg on c and returns the first reply, resending a
// few times, as UDP clients do: the first datagram may wait for ARP.
func udpRoundTrip(c net.Conn, msg string) (string, error) {
	buf := make([]byte, 2048)
	for try := 0; try < 10; try++ {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		m, err := c.Read(buf)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:m]), nil
	}
	return "", fmt.Errorf("no reply to %q", msg)
}

// TestUDPForwardIdle: a flow ends after its idle time, and the next
// datagram from the same client starts another.
func TestUDPForwardIdle(t *testing.T) {
	n, g := startPair(t, Config{Forwards: []Forward{udpFwd("127.0.0.1:0", 5353)}, UDPIdle: 200 * time.Millisecond})
	srv := g.listenUDP(t, 5353)
	go func() {
		buf := make([]byte, 2048)
		for {
			m, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo([]byte(from.String()+" "+string(buf[:m])), from)
		}
	}()
	c, err := net.Dial("udp", hostAddr(n, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := udpRoundTrip(c, "a"); err != nil {
		t.Fatal(err)
	}
	u := n.udp[0]
	deadline := time.Now().Add(5 * time.Second)
	for {
		u.mu.Lock()
		flows := len(u.flows)
		u.mu.Unlock()
		if flows == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d flows still open after their idle time", flows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := udpRoundTrip(c, "a"); err != nil {
		t.Fatalf("after the flow expired: %v", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.flows) != 1 {
		t.Errorf("%d flows, want a new one", len(u.flows))
	}
}
