package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
	"github.com/morgana-os/morgana/internal/tlstest"
)

// The website as a unikernel with TLS (tests/website covers TLS and ACME with it as a host
// process): its files from a tar archive on the block device "files" (package files), its
// ACME account and certificates on the block device "cache".

const websiteName = "website.test"

// tarArchive makes a tar archive with tar(1), as a user would, of the host files given under
// their names in the archive, and returns its path.
func tarArchive(t testing.TB, files map[string]string) string {
	t.Helper()
	tarCmd := testenv.MustHaveCommand(t, "tar")
	dir := t.TempDir()
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(t.TempDir(), "files.tar")
	if out, err := exec.Command(tarCmd, "-cf", archive, "-C", dir, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return archive
}

// curlIn runs curl with args and returns its output, failing t if it fails.
func curlIn(t testing.TB, args ...string) string {
	t.Helper()
	curl := testenv.MustHaveCommand(t, "curl")
	out, err := run1(curl, append([]string{"-sS", "-m", "20"}, args...)...)
	if err != nil {
		t.Fatalf("curl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// curlStatus runs curl with args and returns its exit status.
func curlStatus(t testing.TB, args ...string) int {
	t.Helper()
	curl := testenv.MustHaveCommand(t, "curl")
	err := exec.Command(curl, append([]string{"-sS", "-m", "20", "-o", "/dev/null"}, args...)...).Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// publish is the -p flags of the website's two ports.
func publish(httpPort, tlsPort int) []string {
	return []string{"-p", fmt.Sprintf("127.0.0.1:%d:80", httpPort), "-p", fmt.Sprintf("127.0.0.1:%d:443", tlsPort)}
}

// TestWebsiteTLSInVM serves HTTPS from a unikernel with a certificate and key read from a tar
// archive on a block device, as the README's command does; curl verifies it against the test
// CA, over TLS 1.3 and HTTP/2 and HTTP/1.1, and the plain HTTP port redirects to HTTPS.
func TestWebsiteTLSInVM(t *testing.T) {
	inSandboxes(t, func(t *testing.T, m mode) {
		testenv.MustHaveCommand(t, "curl")
		ca := tlstest.NewCA(t, "morgana test CA")
		cert, key := ca.Issue(t, websiteName, "127.0.0.1")
		// tar(1) names them ./site.crt and ./keys/site.key; the command line need not.
		archive := tarArchive(t, map[string]string{"site.crt": cert, "keys/site.key": key})
		image := buildPackageImage(t, "./examples/website")
		httpPort, tlsPort := freePort(t), freePort(t)
		run := startIn(t, m, runSpec{image: image, timeout: 2 * time.Minute,
			monitorFlags: append([]string{"--block", "files=" + archive + ":ro"}, publish(httpPort, tlsPort)...),
			args:         []string{"--cert", "site.crt", "--key", "/keys/site.key", "--redirect-port", strconv.Itoa(tlsPort)}})
		if !run.waitForStderr("msg=ready") {
			t.Fatalf("the website did not start: %s", run.wait().stderr)
		}
		base := fmt.Sprintf("https://%s:%d", websiteName, tlsPort)
		resolve := fmt.Sprintf("%s:%d:127.0.0.1", websiteName, tlsPort)
		verified := []string{"--resolve", resolve, "--cacert", ca.CertPEM, "--tlsv1.3"}
		for _, tt := range []struct{ flag, version string }{{"--http2", "2"}, {"--http1.1", "1.1"}} {
			got := curlIn(t, append(verified, tt.flag, "-o", "/dev/null", "-w", "%{http_version} %{http_code}", base+"/")...)
			if want := tt.version + " 200"; got != want {
				t.Errorf("curl %s: %q, want %q", tt.flag, got, want)
			}
		}
		if got := curlIn(t, append(verified, "--http2", base+"/about")...); !strings.Contains(got, "About this image") {
			t.Errorf("the about page over HTTP/2: %.200q", got)
		}
		// What must fail: TLS 1.2 (35, the handshake), another CA (60, the certificate).
		if code := curlStatus(t, "--resolve", resolve, "--cacert", ca.CertPEM, "--tls-max", "1.2", base+"/"); code != 35 {
			t.Errorf("TLS 1.2: curl exit status %d, want 35", code)
		}
		other := tlstest.NewCA(t, "some other CA")
		if code := curlStatus(t, "--resolve", resolve, "--cacert", other.CertPEM, base+"/"); code != 60 {
			t.Errorf("another CA: curl exit status %d, want 60", code)
		}
		// The HTTP port sends browsers to HTTPS, on the host's port published
		// for the guest's 443 (--redirect-port), and following that works.
		plain := fmt.Sprintf("http://%s:%d/docs/abi.html?x=1", websiteName, httpPort)
		toLocal := []string{"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", websiteName, httpPort), "--resolve", resolve}
		got := curlIn(t, append(toLocal, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", plain)...)
		if want := fmt.Sprintf("301 https://%s:%d/docs/abi.html?x=1", websiteName, tlsPort); got != want {
			t.Errorf("plain HTTP: %q, want %q", got, want)
		}
		got = curlIn(t, append(toLocal, "--cacert", ca.CertPEM, "-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", plain)...)
		if want := fmt.Sprintf("200 https://%s:%d/docs/abi.html?x=1", websiteName, tlsPort); got != want {
			t.Errorf("plain HTTP, redirect followed: %q, want %q", got, want)
		}
		run.signal(syscall.SIGTERM)
		if r := run.wait(); r.exit != 0 {
			t.Errorf("after SIGTERM: exit status %d, want 0", r.exit)
		}
	})
}

// TestWebsiteFilesErrors checks that a unikernel asked for files it cannot have says how to
// give them: attach the archive, or put the file in it.
func TestWebsiteFilesErrors(t *testing.T) {
	inSandboxes(t, func(t *testing.T, m mode) {
		ca := tlstest.NewCA(t, "morgana test CA")
		cert, _ := ca.Issue(t, websiteName)
		image := buildPackageImage(t, "./examples/website")
		args := []string{"--cert", "site.crt", "--key", "site.key"}
		for _, c := range []struct {
			name  string
			flags []string
			want  string
		}{
			{"no archive", nil, "certificate: open site.crt: file does not exist: the image has no file system here (hvt, spt); put the file in a tar archive and attach it: morgana run --block files=ARCHIVE.tar:ro"},
			{"not in the archive", []string{"--block", "files=" + tarArchive(t, map[string]string{"site.crt": cert}) + ":ro"},
				"certificate: open site.key: not in the tar archive on block device files (1 file): file does not exist"},
			{"not an archive", []string{"--block", "files=" + newDisk(t, 4096) + ":ro"}, "block device files: tarfs: bad archive at byte 0: not a tar header"},
		} {
			t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
				r := startIn(t, m, runSpec{image: image, args: args, monitorFlags: append(c.flags, "-p", "127.0.0.1:0:80")}).wait()
				if r.exit != 1 || !strings.Contains(r.stderr, c.want) {
					t.Errorf("exit status %d, stderr %q; want 1 and %q", r.exit, tail(r.stderr, 500), c.want)
				}
			})
		}
	})
}

// TestWebsiteACMEInVM has the unikernel get its certificate from pebble, which runs on the
// host's loopback: the guest reaches it through --outbound (10.0.2.2 is the host's loopback),
// and pebble validates the challenge on the ports published with -p, the name resolved by the
// test's DNS server. The account and certificate go to the block device "cache"; a restart with
// pebble gone must serve the same certificate, from the device.
func TestWebsiteACMEInVM(t *testing.T) {
	inSandboxes(t, func(t *testing.T, m mode) {
		testenv.MustHaveCommand(t, "curl")
		tlstest.MustPebble(t)
		const domain = "acme." + websiteName
		ca := tlstest.NewCA(t, "pebble's listener CA")
		dns := tlstest.ServeDNS(t, websiteName)
		httpPort, tlsPort := freePort(t), freePort(t)
		const gateway = "10.0.2.2" // usernet's gateway: the host's loopback, with --outbound
		pb := tlstest.StartPebble(t, tlstest.PebbleConfig{CA: ca, ListenerNames: []string{gateway}, DNS: dns, HTTPPort: httpPort, TLSPort: tlsPort})
		archive := tarArchive(t, map[string]string{"pebble-ca.pem": ca.CertPEM})
		cache := filepath.Join(t.TempDir(), "cache.img")
		if err := os.WriteFile(cache, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		image := buildPackageImage(t, "./examples/website")
		spec := runSpec{image: image, timeout: 3 * time.Minute,
			monitorFlags: append([]string{"--block", "files=" + archive + ":ro", "--block", "cache=" + cache, "--outbound"}, publish(httpPort, tlsPort)...),
			args: []string{"--acme-directory", pb.Directory(gateway), "--acme-domain", domain, "--acme-email", "ops@" + websiteName,
				"--acme-ca-root", "pebble-ca.pem", "--cache-device", "cache", "--shutdown-timeout", "2s"}}
		url := fmt.Sprintf("https://%s:%d/", domain, tlsPort)
		resolve := []string{"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", domain, tlsPort)}
		certificate := func(run *running) string {
			t.Helper()
			if !run.waitForStderr(`msg="certificate ready"`) {
				t.Fatalf("no certificate: %s", tail(run.wait().stderr, 3000))
			}
			for _, l := range strings.Split(run.stderr.String(), "\n") {
				if strings.Contains(l, `msg="certificate ready"`) {
					return tlstest.LogValue(l, "serial")
				}
			}
			return ""
		}
		stop := func(run *running) {
			t.Helper()
			run.signal(syscall.SIGTERM)
			if r := run.wait(); r.exit != 0 {
				t.Fatalf("after SIGTERM: exit status %d, want 0", r.exit)
			}
		}

		run := startIn(t, m, spec)
		serial := certificate(run)
		if serial == "" || !pb.Validated() {
			t.Fatalf("serial %q, pebble validated a challenge: %v", serial, pb.Validated())
		}
		root := pb.Root(t)
		got := curlIn(t, append(resolve, "--cacert", root, "--tlsv1.3", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url)...)
		if got != "2 200" {
			t.Errorf("curl: %q, want \"2 200\"", got)
		}
		stop(run)

		// Restart with the CA gone: nothing may be issued again.
		pb.Stop(t)
		run = startIn(t, m, spec)
		if again := certificate(run); again != serial {
			t.Errorf("after the restart the certificate has serial %s, want the stored %s", again, serial)
		}
		if !strings.Contains(run.stderr.String(), "acme_account+key") {
			t.Errorf("the store on the device does not hold the account")
		}
		got = curlIn(t, append(resolve, "--cacert", root, "--tlsv1.3", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url)...)
		if got != "2 200" {
			t.Errorf("curl after the restart: %q, want \"2 200\"", got)
		}
		if strings.Contains(run.stderr.String(), "level=ERROR") {
			t.Errorf("errors after the restart:\n%s", run.stderr.String())
		}
		stop(run)
	})
}
