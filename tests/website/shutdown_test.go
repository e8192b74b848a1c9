package website

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/tlstest"
)

// stalledDownload starts an HTTP/2 download of the 100 KiB file from p and
// returns once the response headers are in, with the body unread. The
// client's flow-control window is 16 KiB, and it grows only as the body is
// read, so the server's handler stays blocked in Write, mid-response, until
// the test reads: a request in flight for as long as the test wants.
func stalledDownload(t *testing.T, p *proc, ca *tlstest.CA) *http.Response {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	var protos http.Protocols
	protos.SetHTTP2(true)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: siteName},
		Protocols:       &protos,
		HTTP2:           &http.HTTP2Config{MaxReceiveBufferPerStream: 16 << 10, MaxReceiveBufferPerConnection: 64 << 10},
	}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Get("https://" + p.https + "/bench/100k.bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("%s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
	time.Sleep(200 * time.Millisecond) // the server fills the window and blocks
	return resp
}

func startTLSWebsite(t *testing.T, extra ...string) (*proc, *tlstest.CA) {
	t.Helper()
	ca := tlstest.NewCA(t, "morgana test CA")
	cert, key := ca.Issue(t, siteName, "127.0.0.1")
	argv := append([]string{mustWebsite(t)}, args(append([]string{"--tls-port", "0", "--cert", cert, "--key", key}, extra...)...)...)
	return startWebsite(t, argv...), ca
}

// TestGracefulShutdown sends SIGTERM while a response is half sent: the
// listeners close at once, the response is completed, and the website
// exits 0.
func TestGracefulShutdown(t *testing.T) {
	p, ca := startTLSWebsite(t, "--shutdown-timeout", "10s")
	resp := stalledDownload(t, p, ca)
	p.signal(t, syscall.SIGTERM)
	p.waitLog(t, `msg="shutting down"`, 5*time.Second)

	// Still running for the request in flight, but taking no new ones.
	time.Sleep(300 * time.Millisecond)
	if p.exited() {
		t.Fatal("the website exited with a request in flight")
	}
	for _, addr := range []string{p.https, p.http} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepted a connection after SIGTERM", addr)
		}
	}

	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, siteFile(t, "bench/100k.bin")) {
		t.Errorf("the response in flight: %d bytes, %v; want the whole file", len(body), err)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Error("no \"stopped\" in the log")
	}
	if !strings.Contains(p.stdout.String(), `"GET /bench/100k.bin HTTP/2.0" 200 102400 `) {
		t.Error("the completed request is not in the access log")
	}
}

// TestShutdownTimeout: a response that is not done within
// --shutdown-timeout is cut short, and the exit status says so.
func TestShutdownTimeout(t *testing.T) {
	p, ca := startTLSWebsite(t, "--shutdown-timeout", "300ms")
	resp := stalledDownload(t, p, ca)
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	code := p.wait(t, 5*time.Second)
	if took := time.Since(start); code != 1 || took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("exit status %d after %v, want 1 after the 300ms timeout", code, took)
	}
	if !strings.Contains(p.stderr.String(), "cut short") {
		t.Errorf("the log does not say requests were cut short")
	}
	if body, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("the cut-short response read to its end (%d bytes)", len(body))
	}
}
