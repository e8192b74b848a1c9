package stack

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/morgana-os/morgana/netdev/netdevtest"
)

// TestDelayedACKsOnStack: a server that answers each request sends its
// answers with the ACKs on them, not a pure ACK before each (gVisor's
// TCP alone sends one per request); and a bulk upload, acknowledged at
// once, still goes through.
func TestDelayedACKsOnStack(t *testing.T) {
	devA, devB := netdevtest.Pipe(macA, macB, 1500)
	server := &frameRecorder{}
	a := newStack(t, Config{NICs: []NICConfig{{Device: devA, IPv4: ip4A}}})
	b := newStack(t, Config{NICs: []NICConfig{{Device: &recordingDevice{devB, server}, IPv4: ip4B}}})
	waitAddr(t, a, ip4A.Addr())
	waitAddr(t, b, ip4B.Addr())
	l, err := b.Listen(ctxTimeout(t, time.Second), "tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { // answers each 100-byte request with 1000 bytes; then sinks an upload
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, resp := make([]byte, 100), make([]byte, 1000)
		for {
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			if req[0] == 'U' {
				io.Copy(io.Discard, c)
				c.Write([]byte("done"))
				return
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	}()
	c, err := a.Dial(ctxTimeout(t, 5*time.Second), "tcp", hostPort(ip4B.Addr(), l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	const requests = 200
	req, resp := make([]byte, 100), make([]byte, 1000)
	pure0 := server.pureACKs.Load()
	for range requests {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			t.Fatal(err)
		}
	}
	// Some may miss: an answer later than the delay (a loaded machine, the
	// race detector). Without the delay there is one per request.
	if pure := server.pureACKs.Load() - pure0; pure > requests/2 {
		t.Errorf("%d pure ACKs for %d requests answered", pure, requests)
	}

	// An upload of 32 MiB: the server acknowledges it as it comes.
	req[0] = 'U'
	c.Write(req)
	chunk := make([]byte, 64<<10)
	for range 512 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	c.(*TCPConn).CloseWrite()
	done, err := io.ReadAll(c)
	if err != nil || string(done) != "done" {
		t.Fatalf("upload: %q, %v", done, err)
	}
	if server.pureACKs.Load() < 100 {
		t.Errorf("%d pure ACKs in all: the upload was not acknowledged as it came", server.pureACKs.Load())
	}
}
