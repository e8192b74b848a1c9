// Command gen writes docs/abi.md from the guest ABI table.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/morgana-os/morgana/abi"
)

func main() {
	out := flag.String("o", "docs/abi.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, abi.Markdown(), 0o644); err != nil {
		log.Fatal(err)
	}
}
