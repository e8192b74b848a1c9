// Command httpd serves HTTP on the image's network (package stack): a
// page, a large body whose SHA-256 the client checks, and an upload that
// it hashes, for the network tests.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/morgana-os/morgana/stack"
)

//morgana:net service

func main() {
	port := flag.Int("port", 80, "port to listen on")
	udpEcho := flag.Int("udp-echo", 7, "UDP port to echo datagrams on (0: none)")
	get := flag.String("get", "", "instead of serving, GET this URL, print the body's length and SHA-256, and exit")
	flag.Parse()
	if *get != "" {
		os.Exit(fetch(*get))
	}
	if *udpEcho != 0 {
		pc, err := stack.ListenPacket("udp", ":"+strconv.Itoa(*udpEcho))
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen udp:", err)
			os.Exit(1)
		}
		go echo(pc)
	}
	ln, err := stack.Listen("tcp", ":"+strconv.Itoa(*port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from a unikernel at %s\n", r.Host)
	})
	// /bytes?n=N streams N bytes of a fixed pattern.
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		io.CopyN(w, &pattern{}, n)
	})
	// /sha256 answers with the SHA-256 of the request body.
	mux.HandleFunc("/sha256", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %s\n", n, hex.EncodeToString(h.Sum(nil)))
	})
	fmt.Printf("serving on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

func echo(pc net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(buf[:n], addr)
	}
}

// fetch GETs url over the image's network.
func fetch(url string) int {
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: stack.DialContext}}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "get:", err)
		return 1
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "get:", err)
		return 1
	}
	fmt.Printf("got %d %d %s\n", resp.StatusCode, n, hex.EncodeToString(h.Sum(nil)))
	return 0
}

// pattern reads as the bytes 0, 1, ..., 250, 0, 1, ...
type pattern struct{ off int }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.off)
		p.off = (p.off + 1) % 251
	}
	return len(b), nil
}
