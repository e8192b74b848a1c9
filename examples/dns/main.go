// Command dns is an authoritative DNS server image, built on morgana's DNS
// library (package dns and below): it serves RFC 1035 master files, several
// zones at once, over UDP and TCP, from answers precomputed at load.
//
//	morgana run --mode unix ./examples/dns --zone example.com.zone --port 5353
//
// Flags:
//
//	--zone FILE        a zone's master file (repeatable): in the tar archive
//	                   on the block device "files" when one is attached
//	                   (`morgana run --block files=zones.tar:ro`), the host's
//	                   file otherwise (package files), or else one of the
//	                   zones built into the image (example.com.zone)
//	--zone-device NAME a zone's master file on the block device NAME
//	                   (`morgana run --block NAME=zone.img`), padded with
//	                   zeros to the device's end (repeatable)
//	--port N           the UDP and TCP port (default 53; 0 picks a free one)
//	--axfr-allow CIDR  a network that may transfer the zones (repeatable)
//	--addr IP          the address to listen on (default: all of them)
//
// With neither --zone nor --zone-device, the example zone built into the
// image is served. In hvt and spt, where an image has no file system,
// --zone names a file of the archive on the files device or of the image:
//
//	tar cf zones.tar example.org.zone
//	morgana run --block files=zones.tar:ro -p 5353:53/udp ./examples/dns --zone example.org.zone
//
// The image declares no device manifest, so that --zone-device may name any
// block device. Sockets come from morgana's stack package: the host's in
// unix mode, the image's own TCP/IP stack in a VM. A zone with an error
// stops the server before it serves, with the error as "file:line: reason"
// and exit status 1.
package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/morgana-os/morgana/block"
	"github.com/morgana-os/morgana/bootflags"
	"github.com/morgana-os/morgana/dns/answer"
	"github.com/morgana-os/morgana/dns/server"
	"github.com/morgana-os/morgana/dns/zone"
	"github.com/morgana-os/morgana/files"
	"github.com/morgana-os/morgana/stack"
)

//go:embed zones/example.com.zone
var builtin embed.FS

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var zoneFiles, zoneDevs, allow listFlag
	fs.Var(&zoneFiles, "zone", "master file of a zone to serve (repeatable)")
	fs.Var(&zoneDevs, "zone-device", "block device holding the master file of a zone to serve (repeatable)")
	port := fs.Int("port", 53, "UDP and TCP port")
	host := fs.String("addr", "", "IP address to listen on (default: all of them)")
	fs.Var(&allow, "axfr-allow", "network allowed to transfer zones, as a CIDR (repeatable)")
	// The network's boot arguments (--ipv4 and the rest) are package
	// stack's; defining them here keeps this flag set from refusing them.
	bootflags.RegisterNetwork(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *port < 0 || *port > 65535 {
		fs.Usage()
		return 2
	}
	var acl []netip.Prefix
	for _, a := range allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			fmt.Fprintf(stderr, "dns: --axfr-allow %s: %v\n", a, err)
			return 2
		}
		acl = append(acl, p.Masked())
	}

	zones, err := loadZones(zoneFiles, zoneDevs)
	if err != nil {
		fmt.Fprintln(stderr, err) // file:line: reason
		return 1
	}
	set, err := zone.NewSet(zones...)
	if err != nil {
		fmt.Fprintf(stderr, "dns: %v\n", err)
		return 1
	}
	table, err := answer.Build(set)
	if err != nil {
		fmt.Fprintf(stderr, "dns: %v\n", err)
		return 1
	}

	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	pc, err := stack.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "dns: %v\n", err)
		return 1
	}
	if *port == 0 { // any free port: TCP takes the one UDP got
		addr = pc.LocalAddr().String()
	}
	ln, err := stack.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		fmt.Fprintf(stderr, "dns: %v\n", err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &server.Server{Table: table, AXFR: acl, Log: log}

	var names []string
	for _, z := range zones {
		names = append(names, z.Origin)
	}
	st := table.Stats()
	fmt.Fprintf(stdout, "dns: serving %d zones (%s), %d names, %d answers precomputed, on %s (udp, tcp)\n",
		len(zones), strings.Join(names, " "), st.Names, st.Templates, addr)

	errc := make(chan error, 2)
	go func() { errc <- srv.ServeUDP(pc) }()
	go func() { errc <- srv.ServeTCP(ln) }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	status := 0
	select {
	case <-sigs:
	case err := <-errc:
		log.Error("dns: serving stopped", "err", err)
		status = 1
	}
	pc.Close()
	ln.Close()
	srv.Close()
	return status
}

// loadZones reads the zone files and devices, or the built-in zone if
// there are none.
func loadZones(names, devices []string) ([]*zone.Zone, error) {
	if len(names)+len(devices) == 0 {
		z, err := zone.LoadFS(builtin, "zones/example.com.zone")
		if err != nil {
			return nil, err
		}
		return []*zone.Zone{z}, nil
	}
	var zones []*zone.Zone
	for _, f := range names {
		z, err := loadZoneFile(f)
		if err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	for _, name := range devices {
		dev, err := block.Open(name)
		if err != nil {
			return nil, err
		}
		z, err := zone.ReadBlocks(dev, dev.Size(), dev.SectorSize(), "block:"+name)
		dev.Close()
		if err != nil {
			return nil, err
		}
		zones = append(zones, z)
	}
	return zones, nil
}

// loadZoneFile reads the master file name through package files (the
// archive on the block device files, or the host's file) or, when it is
// not there, from the zones built into the image.
func loadZoneFile(name string) (*zone.Zone, error) {
	f, err := files.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			for _, p := range []string{name, path.Join("zones", name)} {
				if fs.ValidPath(p) {
					if z, berr := zone.LoadFS(builtin, p); berr == nil || !errors.Is(berr, fs.ErrNotExist) {
						return z, berr
					}
				}
			}
		}
		return nil, err
	}
	defer f.Close()
	return zone.Read(f, name)
}
