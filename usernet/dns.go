package usernet

import (
	"bufio"
	"log/slog"
	"net/netip"
	"os"
	"strings"
)

// resolvConf is where the host's resolvers are listed.
const resolvConf = "/etc/resolv.conf"

// readResolvConf returns the nameservers of a resolv.conf, on port 53. With
// none (no file, or no nameserver line), it returns the local resolver's
// addresses, as Go's own resolver falls back to.
func readResolvConf(path string, log *slog.Logger) []netip.AddrPort {
	var servers []netip.AddrPort
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 || fields[0] != "nameserver" {
				continue
			}
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				servers = append(servers, netip.AddrPortFrom(a.Unmap(), 53))
			}
		}
	}
	if len(servers) == 0 {
		log.Warn("usernet: no nameserver found, using the local resolver", "file", path, "err", err)
		servers = []netip.AddrPort{
			netip.MustParseAddrPort("127.0.0.1:53"),
			netip.MustParseAddrPort("[::1]:53"),
		}
	}
	return servers
}
