package website

import (
	"net"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/internal/tlstest"
)

const siteName = "website.test"

// TestTLS serves HTTPS with a certificate from files, issued by a CA made
// for the test, and has curl verify it against that CA, over HTTP/1.1 and
// HTTP/2.
func TestTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "morgana test CA")
	cert, key := ca.Issue(t, siteName, "127.0.0.1")
	p := startWebsite(t, append([]string{mustWebsite(t)}, args("--tls-port", "0", "--cert", cert, "--key", key)...)...)
	_, port, _ := net.SplitHostPort(p.https)
	base := "https://" + siteName + ":" + port
	resolve := []string{"--resolve", siteName + ":" + port + ":127.0.0.1", "--cacert", ca.CertPEM}
	other := tlstest.NewCA(t, "some other CA")
	index := siteFile(t, "index.html")
	big := siteFile(t, "bench/100k.bin")

	tests := []struct {
		name  string
		args  []string
		proto string // of the response
		alpn  string
		want  check
	}{
		{"http/1.1", []string{"--http1.1", base + "/"}, "HTTP/1.1", "http/1.1", check{200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, index, -1}},
		{"http/2", []string{"--http2", base + "/"}, "HTTP/2", "h2", check{200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, index, -1}},
		{"http/2 range", []string{"--http2", "-r", "1000-1999", base + "/bench/100k.bin"}, "HTTP/2", "h2", check{206, map[string]string{"Content-Range": "bytes 1000-1999/102400"}, big[1000:2000], -1}},
		{"http/2 brotli", []string{"--http2", "--compressed", base + "/"}, "HTTP/2", "h2", check{200, map[string]string{"Content-Encoding": "br"}, index, -1}},
		{"http/2 404", []string{"--http2", base + "/missing"}, "HTTP/2", "h2", check{404, nil, siteFile(t, "404.html"), -1}},
		{"by IP address", []string{"--http2", "https://" + p.https + "/"}, "HTTP/2", "h2", check{200, nil, index, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := curl(t, append(resolve, tt.args...)...)
			tt.want.verify(t, r)
			if r.proto != tt.proto || r.alpn != tt.alpn || r.version != "TLSv1.3" {
				t.Errorf("%s with ALPN %q over %q, want %s, %q, TLSv1.3", r.proto, r.alpn, r.version, tt.proto, tt.alpn)
			}
		})
	}

	// Conditional requests over HTTP/2, with the tag the server gave.
	etag := curl(t, append(resolve, "--http2", base+"/")...).header.Get("Etag")
	check{304, map[string]string{"Etag": etag}, nil, 0}.verify(t, curl(t, append(resolve, "--http2", "-H", "If-None-Match: "+etag, base+"/")...))

	// What must fail: another CA, another name, TLS 1.2.
	for _, tt := range []struct {
		name string
		args []string
		exit int // curl's: 60 bad certificate, 35 handshake failed
	}{
		{"untrusted CA", []string{"--resolve", siteName + ":" + port + ":127.0.0.1", "--cacert", other.CertPEM, base + "/"}, 60},
		{"wrong name", []string{"--resolve", "other.test:" + port + ":127.0.0.1", "--cacert", ca.CertPEM, "https://other.test:" + port + "/"}, 60},
		{"TLS 1.2", append(resolve, "--tls-max", "1.2", base+"/"), 35},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := curl(t, tt.args...); r.exit != tt.exit {
				t.Errorf("curl exit status %d, want %d:\n%s", r.exit, tt.exit, r.stderr)
			}
		})
	}

	// The HTTP port sends browsers to HTTPS, on the right port.
	r := curl(t, "-H", "Host: "+siteName, p.url("/docs/abi.html?x=1"))
	check{301, map[string]string{"Location": base + "/docs/abi.html?x=1"}, nil, -1}.verify(t, r)
	log := p.waitAccessLog(t, containsAll(`"GET /docs/abi.html?x=1 HTTP/1.1" 301`, `"GET / HTTP/2.0" 200`))
	if !strings.Contains(log, `"GET /docs/abi.html?x=1 HTTP/1.1" 301`) {
		t.Error("the redirect is not in the access log")
	}
	if !strings.Contains(log, `"GET / HTTP/2.0" 200`) {
		t.Error("the HTTP/2 requests are not in the access log")
	}
}
