package website

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/tlstest"
)

const acmeDomain = "acme.website.test"

// TestACME has the website get its certificate from pebble, which
// validates the challenge for real against the website's own ports, then
// restarts the website with pebble gone: the account and the certificate
// must come from the store, not from a new issuance.
func TestACME(t *testing.T) {
	bin := mustWebsite(t)
	tlstest.MustPebble(t) // before anything runs: the first build takes a while
	ca := tlstest.NewCA(t, "pebble's listener CA")
	dns := tlstest.ServeDNS(t, "website.test")
	httpPort, tlsPort := tlstest.FreePort(t), tlstest.FreePort(t)
	pb := tlstest.StartPebble(t, tlstest.PebbleConfig{CA: ca, DNS: dns, HTTPPort: httpPort, TLSPort: tlsPort})
	cache := t.TempDir() + "/store"
	argv := append([]string{bin}, "--bind", "127.0.0.1", "--port", strconv.Itoa(httpPort), "--tls-port", strconv.Itoa(tlsPort),
		"--acme-directory", pb.Directory("127.0.0.1"), "--acme-domain", acmeDomain, "--acme-email", "ops@website.test",
		"--acme-ca-root", ca.CertPEM, "--cache", cache, "--shutdown-timeout", "2s")

	p := startWebsite(t, argv...)
	issued := p.waitLog(t, "msg=\"certificate ready\"", 60*time.Second)
	serial := tlstest.LogValue(issued, "serial")
	if serial == "" || !strings.Contains(issued, "issuer=\"Pebble Intermediate CA") {
		t.Fatalf("certificate line %q: want a serial and pebble as the issuer", issued)
	}
	root := pb.Root(t)
	url := "https://" + acmeDomain + ":" + strconv.Itoa(tlsPort) + "/"
	resolve := []string{"--resolve", acmeDomain + ":" + strconv.Itoa(tlsPort) + ":127.0.0.1", "--cacert", root}
	for _, proto := range []string{"--http1.1", "--http2"} {
		r := curl(t, append(resolve, proto, url)...)
		check{200, nil, siteFile(t, "index.html"), -1}.verify(t, r)
		if r.version != "TLSv1.3" {
			t.Errorf("%s: %s, want TLSv1.3", proto, r.version)
		}
	}
	// pebble validated the challenge on the website's own ports.
	if !pb.Validated() {
		t.Errorf("pebble's log does not show a validated challenge")
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}

	// Restart with the CA gone: nothing may be issued again.
	pb.Stop(t)
	p = startWebsite(t, argv...)
	store := p.waitLog(t, "msg=\"certificate store\"", 10*time.Second)
	if !strings.Contains(store, "acme_account+key") || !strings.Contains(store, acmeDomain) {
		t.Errorf("the store does not hold the account and the certificate: %q", store)
	}
	again := p.waitLog(t, "msg=\"certificate ready\"", 10*time.Second)
	if got := tlstest.LogValue(again, "serial"); got != serial {
		t.Errorf("after the restart the certificate has serial %s, want the stored %s", got, serial)
	}
	r := curl(t, append(resolve, "--http2", url)...)
	check{200, nil, siteFile(t, "index.html"), -1}.verify(t, r)
	if strings.Contains(p.stderr.String(), "level=ERROR") {
		t.Errorf("errors after the restart:\n%s", p.stderr.String())
	}
}
