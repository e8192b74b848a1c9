package stack

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// TestCloseLeavesNoGoroutines builds two stacks, uses them, closes them,
// and checks that every goroutine they started is gone.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	devA, devB := netdevtest.Pipe(macA, macB, 1500)
	a, err := New(Config{NICs: []NICConfig{{Device: devA, IPv4: ip4A}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{NICs: []NICConfig{{Device: devB, IPv4: ip4B, DHCP: false}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "x")
	io.ReadFull(c, make([]byte, 1))
	a.Close()
	b.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			var ours []string
			for _, g := range strings.Split(stacks, "\n\n") {
				if strings.Contains(g, "gvisor.dev") || strings.Contains(g, "morgana/stack") {
					ours = append(ours, g)
				}
			}
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), strings.Join(ours, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
