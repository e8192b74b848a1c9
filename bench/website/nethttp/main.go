// Command nethttp is the plain Go peer of the website benchmark
// (bench/website/run.sh): net/http's own file server over a directory, with
// nothing added, as a Go developer would write it. The benchmark compares
// examples/website with it, and with nginx, on the same files, and compares
// the size of the website's image with this binary's.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := flag.String("dir", ".", "directory to serve")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", ln.Addr())
	log.Fatal(http.Serve(ln, http.FileServer(http.Dir(*dir))))
}
