// Command floor is the lower bound of the website benchmark
// (bench/website/run.sh): net/http answering every request for a file
// from memory with the least a handler can do (one header field, one
// Write: no logging, no validators, no content negotiation, no connection
// limit). Run natively it shows what net/http costs on the host's TCP;
// run in a VM (`morgana run`), what it costs on the image's own TCP/IP
// stack (package stack) behind the monitor. The website cannot be faster
// than this program on the same transport, so the two rows bound what any
// work on the website itself can gain.
//
//	floor -addr 127.0.0.1:8080 bench/1k.html bench/100k.bin
//	tar cf files.tar bench/1k.html bench/100k.bin
//	morgana run --block files=files.tar:ro --net service=tap0 floor.img -addr :80 \
//		bench/1k.html bench/100k.bin --ipv4=10.0.0.2/24
//
// Each FILE is served at /FILE; package files reads it from the host, or
// from the archive on the block device "files" in a VM.
package main

import (
	"flag"
	"fmt"
	"log"
	"mime"
	"net/http"
	"os"
	"path"

	"github.com/morgana-os/morgana/files"
	"github.com/morgana-os/morgana/stack"
)

//morgana:net service
//morgana:block files optional

// page is a file's answer, made once.
type page struct {
	contentType []string
	body        []byte
}

func main() {
	addr := flag.String("addr", ":80", "address to listen on")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: floor [-addr ADDR] FILE...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	pages := make(map[string]page, flag.NArg())
	for _, name := range flag.Args() {
		body, err := files.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		pages[path.Join("/", name)] = page{contentType: []string{ct}, body: body}
	}
	ln, err := stack.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header()["Content-Type"] = p.contentType
		w.Write(p.body)
	})))
}
