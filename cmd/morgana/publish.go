package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/hostdev"
	"github.com/morgana-os/morgana/usernet"
)

// publishSpecs turns the -p flags into forwards and the network device
// they need: the image's declared network device (or "service"), served
// by the monitor's user-mode network instead of a TAP.
func publishSpecs(o runOptions, specs []hostdev.Spec, m abi.Manifest) ([]usernet.Forward, []hostdev.Spec, error) {
	if len(o.publish) == 0 {
		if o.outbound {
			return nil, nil, fmt.Errorf("--outbound: only with -p (user-mode networking)")
		}
		return nil, specs, nil
	}
	var fwds []usernet.Forward
	for _, p := range o.publish {
		f, err := usernet.ParseForward(p)
		if err != nil {
			return nil, nil, err // it names the flag
		}
		fwds = append(fwds, f)
	}
	name := "service"
	for _, e := range m {
		if e.Kind == abi.NetDevice {
			name = e.Name
			break
		}
	}
	for _, s := range specs {
		if s.Kind == abi.NetDevice && s.Name == name {
			return nil, nil, fmt.Errorf("-p %s: network device %s is already attached to %s; -p needs it for user-mode networking", o.publish[0], name, s.Path)
		}
	}
	return fwds, append([]hostdev.Spec{{Kind: abi.NetDevice, Name: name, User: true}}, specs...), nil
}

// startUserNet serves the user-mode network device of devs with the
// forwards, and gives the guest its addresses.
func startUserNet(o runOptions, devs []*hostdev.Device, fwds []usernet.Forward) (*usernet.Network, error) {
	for _, d := range devs {
		if !d.User {
			continue
		}
		mac, _ := net.ParseMAC(d.Info.MAC)
		level := slog.LevelWarn
		if o.verbose {
			level = slog.LevelInfo
		}
		peer := d.Peer
		d.Peer = nil // usernet owns it now
		n, err := usernet.Start(peer, usernet.Config{
			Forwards: fwds,
			Outbound: o.outbound,
			GuestMAC: mac,
			MTU:      d.Info.MTU,
			Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("net", d.Name),
		})
		if err != nil {
			return nil, err
		}
		d.Info.IPv4 = usernet.GuestPrefix4.String()
		d.Info.IPv4Gateway = usernet.Gateway4.String()
		if o.outbound {
			d.Info.DNS = usernet.DNS4.String()
		}
		for _, f := range n.Forwards() {
			fmt.Fprintf(os.Stderr, "morgana: publishing guest port %d/%s on %s%s\n", f.GuestPort, f.Proto, f.HostAddr, hint(f))
		}
		return n, nil
	}
	return nil, fmt.Errorf("-p: no user-mode network device")
}

// hint is where a browser would find a published TCP port.
func hint(f usernet.Forward) string {
	scheme := map[uint16]string{80: "http", 8080: "http", 443: "https", 8443: "https"}[f.GuestPort]
	if f.Proto != usernet.TCP || scheme == "" {
		return ""
	}
	host := f.HostAddr.Addr().String()
	if a := f.HostAddr.Addr(); a.IsUnspecified() || a.IsLoopback() {
		host = "localhost"
	}
	if f.HostAddr.Addr().Is6() && host != "localhost" {
		host = "[" + host + "]"
	}
	return fmt.Sprintf(": %s://%s:%d/", scheme, host, f.HostAddr.Port())
}
