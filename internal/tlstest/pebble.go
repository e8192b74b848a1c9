package tlstest

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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// PebbleVersion is the pebble the ACME tests run, built from the Go module
// proxy (it is not a dependency of the module) and kept in the user's cache
// directory between runs.
const PebbleVersion = "v2.10.1"

var pebbleBuild = sync.OnceValues(func() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "morgana", "pebble-"+PebbleVersion)
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
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+PebbleVersion)
	cmd.Dir = tmp // outside the module: pebble is not one of its dependencies
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install pebble@%s: %v\n%s", PebbleVersion, err, out)
	}
	// Into place in one step, so that a run killed mid-build leaves none.
	return bin, os.Rename(filepath.Join(tmp, "pebble"), bin)
})

// MustPebble returns pebble's binary, building it on first use. A machine
// that cannot build it (no module proxy) skips the test, unless commands
// are required (testenv.RequireCommandsEnv).
func MustPebble(t testing.TB) string {
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

// PebbleConfig is what StartPebble runs pebble with.
type PebbleConfig struct {
	// CA issues the certificate of pebble's own HTTPS listener, for
	// 127.0.0.1, localhost and ListenerNames.
	CA            *CA
	ListenerNames []string
	// DNS is the address of the DNS server (ServeDNS) pebble resolves the
	// names it validates with.
	DNS string
	// HTTPPort and TLSPort are where pebble connects to validate http-01
	// and tls-alpn-01 challenges.
	HTTPPort, TLSPort int
}

// Pebble is a running pebble.
type Pebble struct {
	port   int // of the ACME listener, on 127.0.0.1
	mgmt   string
	client *http.Client
	cmd    *exec.Cmd
	done   chan struct{}
	log    string // the file of its output
}

// StartPebble runs pebble on loopback until the end of the test,
// validating challenges for real, and waits until it answers.
func StartPebble(t testing.TB, c PebbleConfig) *Pebble {
	t.Helper()
	bin := MustPebble(t)
	cert, key := c.CA.Issue(t, append([]string{"127.0.0.1", "localhost"}, c.ListenerNames...)...)
	listen, mgmt := FreePort(t), FreePort(t)
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(listen),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmt),
		"certificate":             cert,
		"privateKey":              key,
		"httpPort":                c.HTTPPort,
		"tlsPort":                 c.TLSPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		"profiles":                map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 7776000}},
	}}
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	b, _ := json.Marshal(config)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.CA.Cert)
	pb := &Pebble{
		port:   listen,
		mgmt:   fmt.Sprintf("127.0.0.1:%d", mgmt),
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second},
		done:   make(chan struct{}),
		log:    filepath.Join(t.TempDir(), "pebble.log"),
	}
	logFile, err := os.Create(pb.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // pebble has its own descriptor
	pb.cmd = exec.Command(bin, "-config", cfgFile, "-dnsserver", c.DNS)
	// No random sleeps before validations, no nonces rejected on purpose,
	// no authorizations reused: the same, quick, issuance every time.
	pb.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	pb.cmd.Stdout, pb.cmd.Stderr = logFile, logFile
	pb.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := pb.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pb.cmd.Wait(); close(pb.done) }()
	t.Cleanup(func() {
		pb.client.CloseIdleConnections()
		if !pb.exited() {
			syscall.Kill(-pb.cmd.Process.Pid, syscall.SIGKILL)
			<-pb.done
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("pebble's log:\n%s", pb.Log())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := pb.client.Get(pb.Directory("127.0.0.1"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return pb
			}
		}
		if pb.exited() || time.Now().After(deadline) {
			t.Fatalf("pebble's directory %s does not answer: %v", pb.Directory("127.0.0.1"), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Directory is the URL of pebble's ACME directory for a client that
// reaches the host's loopback at host: 127.0.0.1 on the host itself, the
// gateway's address in a VM with --outbound (one of ListenerNames). pebble
// writes its other URLs with the host the client asked.
func (pb *Pebble) Directory(host string) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(pb.port)) + "/dir"
}

// Log is what pebble has printed so far.
func (pb *Pebble) Log() string {
	b, _ := os.ReadFile(pb.log)
	return string(b)
}

// Validated reports whether pebble validated a challenge for real.
func (pb *Pebble) Validated() bool {
	return strings.Contains(pb.Log(), "set VALID by completed challenge")
}

// Root fetches the root CA pebble issues from (it makes a new one at every
// start) into a PEM file.
func (pb *Pebble) Root(t testing.TB) string {
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

// Stop stops pebble, as a CA that is gone.
func (pb *Pebble) Stop(t testing.TB) {
	t.Helper()
	if err := pb.cmd.Process.Signal(syscall.SIGTERM); err != nil && !pb.exited() {
		t.Fatal(err)
	}
	select {
	case <-pb.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pebble did not stop")
	}
}

func (pb *Pebble) exited() bool {
	select {
	case <-pb.done:
		return true
	default:
		return false
	}
}

// FreePort returns a TCP port free on loopback now. Another process may
// take it before it is used; the tests that need a port fixed in advance
// (pebble's configuration names the website's) accept that small race.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// LogValue returns the value of key=value in a line of a log/slog text
// log, as the website logs its certificates ("serial", "issuer").
func LogValue(line, key string) string {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `=("[^"]*"|\S+)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return strings.Trim(m[1], `"`)
}
