package website

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// pebbleVersion is the pebble the ACME test runs: Let's Encrypt's ACME test
// server, built from the Go module proxy (it is not a dependency of the
// module) and kept in the user's cache directory between runs.
const pebbleVersion = "v2.10.1"

var pebbleBuild = sync.OnceValues(func() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "morgana", "pebble-"+pebbleVersion)
	bin := filepath.Join(dir, "pebble")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion)
	cmd.Dir = tmp // outside the module: pebble is not one of its dependencies
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install pebble@%s: %v\n%s", pebbleVersion, err, out)
	}
	// Into place in one step, so that a run killed mid-build leaves none.
	return bin, os.Rename(filepath.Join(tmp, "pebble"), bin)
})

// mustPebble returns pebble's binary, building it on first use. A machine
// that cannot build it (no module proxy) skips the test, unless commands
// are required.
func mustPebble(t *testing.T) string {
	t.Helper()
	bin, err := pebbleBuild()
	if err != nil {
		if os.Getenv(testenv.RequireCommandsEnv) == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v (set %s=1 to fail instead)", err, testenv.RequireCommandsEnv)
	}
	return bin
}

// pebble is a running pebble.
type pebble struct {
	proc      *proc
	directory string // the ACME directory URL
	mgmt      string // host:port of the management interface
	client    *http.Client
}

// startPebble runs pebble on loopback, validating challenges for real:
// it resolves names with the DNS server at dns and connects to the http-01
// and tls-alpn-01 ports given. ca issues the certificate of its own HTTPS
// listener.
func startPebble(t *testing.T, ca *testCA, dns string, httpPort, tlsPort int) *pebble {
	t.Helper()
	bin := mustPebble(t)
	cert, key := ca.issue(t, "127.0.0.1", "localhost")
	listen, mgmt := freePort(t), freePort(t)
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(listen),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmt),
		"certificate":             cert,
		"privateKey":              key,
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		"profiles":                map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 7776000}},
	}}
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	b, _ := json.Marshal(config)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-config", cfgFile, "-dnsserver", dns)
	// No random sleeps before validations, no nonces rejected on purpose,
	// no authorizations reused: the same, quick, issuance every time.
	p.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("pebble's log:\n%s%s", p.stdout.String(), p.stderr.String())
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	pb := &pebble{
		proc:      p,
		directory: fmt.Sprintf("https://127.0.0.1:%d/dir", listen),
		mgmt:      fmt.Sprintf("127.0.0.1:%d", mgmt),
		client:    &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second},
	}
	t.Cleanup(pb.client.CloseIdleConnections)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := pb.client.Get(pb.directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return pb
			}
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("pebble's directory %s does not answer: %v", pb.directory, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// root fetches the root CA pebble issues from (it makes a new one at every
// start) into a PEM file.
func (pb *pebble) root(t *testing.T) string {
	t.Helper()
	resp, err := pb.client.Get("https://" + pb.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemBytes, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("pebble's root: %d, %v", resp.StatusCode, err)
	}
	path := filepath.Join(t.TempDir(), "pebble-root.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (pb *pebble) stop(t *testing.T) {
	t.Helper()
	pb.proc.signal(t, syscall.SIGTERM)
	select {
	case <-pb.proc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pebble did not stop")
	}
}

// freePort returns a TCP port free on loopback now. Another process may
// take it before it is used; the tests that need a port fixed in advance
// (pebble's configuration names the website's) accept that small race.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
