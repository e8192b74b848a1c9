package website

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/morgana-os/morgana/internal/testenv"
)

// response is what curl received: the last response's status line and
// headers (curl -D), its body, and curl's own exit status and messages.
type response struct {
	proto   string // "HTTP/1.1", "HTTP/2"
	status  int
	header  http.Header
	body    []byte
	exit    int
	stderr  string
	version string // the TLS version curl -v reports, e.g. "TLSv1.3"
	alpn    string // the protocol ALPN settled on
}

// curl runs curl with args, plus -sS -v and header capture.
func curl(t *testing.T, args ...string) response {
	t.Helper()
	bin := testenv.MustHaveCommand(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	headers := filepath.Join(t.TempDir(), "headers")
	argv := append([]string{"-sS", "-v", "-D", headers, "--max-time", "20"}, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := response{body: stdout.Bytes(), stderr: stderr.String(), header: http.Header{}}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.exit = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	h, _ := os.ReadFile(headers)
	r.parse(string(h))
	return r
}

// parse reads the headers curl dumped (-D) and its -v output: the headers
// of the last response, and the TLS details.
func (r *response) parse(headers string) {
	var block []string
	for _, line := range strings.Split(headers, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "HTTP/"):
			block = []string{line}
		case len(block) > 0 && line == "":
			r.setHeaders(block)
			block = nil
		case len(block) > 0:
			block = append(block, line)
		}
	}
	if len(block) > 0 {
		r.setHeaders(block)
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if _, after, ok := strings.Cut(line, "SSL connection using "); ok {
			r.version, _, _ = strings.Cut(after, " ")
		}
		if _, after, ok := strings.Cut(line, "ALPN: server accepted "); ok {
			r.alpn = strings.TrimSpace(after)
		}
	}
}

func (r *response) setHeaders(block []string) {
	f := strings.Fields(block[0])
	if len(f) < 2 {
		return
	}
	r.proto = f[0]
	r.status, _ = strconv.Atoi(f[1])
	r.header = http.Header{}
	for _, h := range block[1:] {
		if k, v, ok := strings.Cut(h, ":"); ok {
			r.header.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k)), strings.TrimSpace(v))
		}
	}
}
