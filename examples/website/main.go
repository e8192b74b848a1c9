// Command website is morgana's demo unikernel: a web server that serves
// morgana's own documentation, embedded in its image, over HTTP/1.1 and,
// with a certificate, TLS 1.3 and HTTP/2, and that tells on its "about this
// image" page how big the image is, how long it took to boot and how many
// system calls it may make.
//
// It is an ordinary net/http program. What is morgana-specific is where it
// gets its listeners, stack.Listen, which is the image's own TCP/IP stack
// in a VM and the host's sockets in unix mode, and where it reads its
// files: package files, which reads them from a tar archive on the block
// device "files" when it is attached (hvt and spt have no file system),
// and from the host otherwise.
// Certificates come from files (--cert, --key) or from an ACME CA
// (--acme-*), with the account and certificates kept in a certstore on a
// block device (--cache-device cache) or a host file (--cache), so that a
// restart does not issue them again.
//
//	go run ./cmd/morgana run --mode unix ./examples/website --port 8080
//	go generate ./examples/website   # after editing README.md or docs/*.md
//
//	tar cf certs.tar site.crt site.key   # TLS 1.3 and HTTP/2, in a VM
//	go run ./cmd/morgana run --block files=certs.tar:ro -p 8443:443 -p 8080:80 \
//		./examples/website --cert site.crt --key site.key --redirect-port 8443
//
// (--redirect-port: http://HOST:8080/ redirects to https://HOST:8443/, the
// port published for the image's 443, which the image cannot know.)
//
// With ACME, the image reaches the CA through --outbound and keeps what it
// gets on the block device cache, a zeroed file. It trusts the public CAs
// that Mozilla's list holds, built into the image (there are no system
// roots in a VM), or the CA given with --acme-ca-root:
//
//	truncate -s 1M cache.img
//	go run ./cmd/morgana run --block cache=cache.img -p 443:443 -p 80:80 --outbound \
//		./examples/website --cache-device cache --acme-domain example.com \
//		--acme-directory https://acme-v02.api.letsencrypt.org/directory
//
// The access log goes to stdout, a line per request in the Combined Log
// Format (--access-log common or off for the others). It is buffered as
// nginx's access_log buffer=64k flush=1s is, because every write to stdout
// is a system call, so in a VM an exit: lines are written together, a
// write of at most --access-log-buffer bytes (default 64K) when that many
// have gathered, --access-log-flush (default 1s) after the first of them
// at the latest, and when the website exits on SIGTERM or SIGINT or on an
// error. --access-log-buffer 0 writes each line as its request ends. A failing
// stdout (a closed pipe) loses lines, is reported once on stderr, and
// does not stop the website.
//
// In a VM it serves at most --max-connections at once, by default one per
// MiB of the memory limit the monitor gives it (GOMEMLIMIT) beyond 32 MiB:
// 175 with 256 MiB. Each connection's buffers are sized to that budget, a
// connection over the limit is reset at once, and near the limit
// keep-alive is turned off until the count falls under half. The TCP stack
// has no global bound on its buffers, and clients that send requests and
// never read the answers would otherwise exhaust the VM's memory.
//
// SIGTERM or SIGINT stop it gracefully: the listeners close, requests in
// flight finish within --shutdown-timeout, the access log is written out,
// and it exits 0 (1 when it had to cut requests short).
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/morgana-os/morgana/bootflags"
	"github.com/morgana-os/morgana/web/accesslog"
)

// The site is served on the image's network device (package stack);
// `morgana run -p 8080:80` attaches one with user-mode networking. The
// block devices are optional: "files" holds the files --cert, --key and
// --acme-ca-root name (package files), and "cache" is the certificate
// store of --cache-device cache.
//
//morgana:net service
//morgana:block files optional
//morgana:block cache optional

// processStart approximates the start of the process: package main is
// initialized last, but the runtime and the packages before it take a
// fraction of a millisecond natively.
var processStart = time.Now()

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "website:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logs.Level("website")}))
	// A closed stdout is the access log's write error, not the end of the
	// website, as for nginx: Go kills a program writing to a broken pipe
	// on fd 1 or 2 unless SIGPIPE is ignored.
	signal.Ignore(syscall.SIGPIPE)
	if err := run(cfg, logger, os.Stdout); err != nil {
		logger.Error("website", "err", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	bind            string
	port, tlsPort   int
	redirectPort    int // the HTTPS port in redirects; 0: the listener's
	maxConns        int // 0: from the memory limit (defaultMaxConns)
	certFile        string
	keyFile         string
	acmeDirectory   string
	acmeDomains     []string
	acmeEmail       string
	acmeCARoot      string
	cache           string
	cacheDevice     string
	cacheSize       int64
	accessLog       string
	accessLogBuffer int           // bytes; 0: a write per line
	accessLogFlush  time.Duration // the longest a line waits in the buffer
	shutdownTimeout time.Duration
	logs            *bootflags.LogLevels // -l: the level of the source "website"
}

// tls reports whether the configuration serves HTTPS.
func (c *config) tls() bool { return c.certFile != "" || c.acmeDirectory != "" }

// listFlag is a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("website", flag.ContinueOnError)
	fs.StringVar(&c.bind, "bind", "", "address to listen on (default: all)")
	fs.IntVar(&c.port, "port", 80, "HTTP port (0: any free port); with TLS it answers ACME challenges and redirects to HTTPS")
	fs.IntVar(&c.tlsPort, "tls-port", 443, "HTTPS port, when TLS is configured (0: any free port)")
	fs.IntVar(&c.redirectPort, "redirect-port", 0, "HTTPS port that HTTP requests are redirected to, when clients reach the image's on another (behind morgana run -p 8443:443: 8443; default: the HTTPS listener's)")
	fs.StringVar(&c.certFile, "cert", "", "PEM certificate chain file (in a VM, in the tar archive of morgana run --block files=ARCHIVE.tar)")
	fs.StringVar(&c.keyFile, "key", "", "PEM private key file of --cert (read as --cert is)")
	fs.StringVar(&c.acmeDirectory, "acme-directory", "", "ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory")
	fs.Var((*listFlag)(&c.acmeDomains), "acme-domain", "domain to get a certificate for (repeatable, or comma-separated)")
	fs.StringVar(&c.acmeEmail, "acme-email", "", "contact address for the ACME account (optional)")
	fs.StringVar(&c.acmeCARoot, "acme-ca-root", "", "PEM file of the CA to trust for the ACME server (default: the system's; read as --cert is)")
	fs.StringVar(&c.cache, "cache", "", "host file keeping the ACME account and certificates (not in a VM: see --cache-device)")
	fs.StringVar(&c.cacheDevice, "cache-device", "", "block device keeping the ACME account and certificates: cache, attached with morgana run --block cache=FILE")
	fs.Int64Var(&c.cacheSize, "cache-size", 1<<20, "size of the --cache file when it is created")
	fs.StringVar(&c.accessLog, "access-log", "combined", "request log on stdout: combined, common or off")
	c.accessLogBuffer = accesslog.DefaultBufferSize
	fs.Var((*sizeFlag)(&c.accessLogBuffer), "access-log-buffer", "`SIZE` of the access log's buffer, written in one write when full (K and M suffixes; 0: a write per line)")
	fs.DurationVar(&c.accessLogFlush, "access-log-flush", accesslog.DefaultFlushInterval, "the longest a line waits in the access log's buffer")
	fs.IntVar(&c.maxConns, "max-connections", 0, "connections served at once, all ports together; one more is reset (default: one per MiB of GOMEMLIMIT beyond 32 MiB, which morgana run sets in a VM; none without it)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on SIGTERM")
	// The boot arguments of every morgana image: package stack reads the
	// network's (--ipv4, --ipv4-gateway, --ipv6, --dns-servers...) from
	// os.Args itself; they are defined here so that one command line
	// configures both. -l sets log levels, "website" being this program's.
	bootflags.RegisterNetwork(fs)
	c.logs = bootflags.RegisterLogs(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case (c.certFile == "") != (c.keyFile == ""):
		return nil, fmt.Errorf("--cert and --key go together")
	case c.certFile != "" && c.acmeDirectory != "":
		return nil, fmt.Errorf("--cert and --acme-directory exclude each other")
	case c.acmeDirectory != "" && len(c.acmeDomains) == 0:
		return nil, fmt.Errorf("--acme-directory needs at least one --acme-domain")
	case c.acmeDirectory == "" && (len(c.acmeDomains) > 0 || c.acmeEmail != "" || c.acmeCARoot != ""):
		return nil, fmt.Errorf("--acme-domain, --acme-email and --acme-ca-root need --acme-directory")
	case c.shutdownTimeout <= 0:
		return nil, fmt.Errorf("--shutdown-timeout must be positive")
	case c.accessLogFlush <= 0:
		return nil, fmt.Errorf("--access-log-flush must be positive")
	case c.maxConns < 0:
		return nil, fmt.Errorf("--max-connections must not be negative")
	case c.redirectPort < 0 || c.redirectPort > 65535:
		return nil, fmt.Errorf("--redirect-port %d: want a port, 1 to 65535", c.redirectPort)
	case c.redirectPort != 0 && !c.tls():
		return nil, fmt.Errorf("--redirect-port needs TLS (--cert or --acme-directory)")
	}
	if _, ok := accesslog.ParseFormat(c.accessLog); !ok && c.accessLog != "off" {
		return nil, fmt.Errorf("--access-log %q: want combined, common or off", c.accessLog)
	}
	return c, nil
}

// sizeFlag is a byte count, with an optional K or M suffix (64K, 1M, 1MiB).
type sizeFlag int

// maxAccessLogBuffer bounds --access-log-buffer: the buffer is memory of
// the image's, and more than a few hundred KiB saves no system call worth
// having.
const maxAccessLogBuffer = 64 << 20

func (s *sizeFlag) String() string {
	switch n := int(*s); {
	case n != 0 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "M"
	case n != 0 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "K"
	default:
		return strconv.Itoa(n)
	}
}

func (s *sizeFlag) Set(v string) error {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(v), "B"), "I")
	mult := 1
	if strings.HasSuffix(t, "K") {
		mult, t = 1<<10, t[:len(t)-1]
	} else if strings.HasSuffix(t, "M") {
		mult, t = 1<<20, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > maxAccessLogBuffer/mult {
		return fmt.Errorf("want a size from 0 to 64M, such as 64K")
	}
	*s = sizeFlag(n * mult)
	return nil
}
