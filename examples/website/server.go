package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/morgana-os/morgana/stack"
	"github.com/morgana-os/morgana/web/accesslog"
	"github.com/morgana-os/morgana/web/static"
)

// errShutdownTimeout is returned when requests were still running when
// --shutdown-timeout ran out.
var errShutdownTimeout = errors.New("requests still running at the end of the shutdown timeout were cut short")

// run serves until SIGTERM or SIGINT, then shuts down gracefully.
func run(cfg *config, logger *slog.Logger, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	handler, err := siteHandler(logger)
	if err != nil {
		return err
	}
	logged := func(h http.Handler) http.Handler { return h }
	if format, ok := accesslog.ParseFormat(cfg.accessLog); ok {
		al := accesslog.NewWithOptions(stdout, format, accesslog.Options{
			BufferSize: cfg.accessLogBuffer, FlushInterval: cfg.accessLogFlush, ErrorLog: logger})
		// Every way out of run writes the buffered lines: the graceful
		// shutdown, the shutdown timeout and a fatal error.
		defer al.Close()
		logged = al.Wrap
	}
	servers := []*server{{name: "http", port: cfg.port, handler: logged(handler)}}
	var prefetch func(context.Context)
	tlsPort := cfg.tlsPort // the listener's, once it listens: --tls-port may be 0
	if cfg.tls() {
		tc, err := newTLS(cfg, logger)
		if err != nil {
			return err
		}
		defer tc.close()
		servers = []*server{
			{name: "https", port: cfg.tlsPort, tls: tc.config, handler: logged(handler)},
			{name: "http", port: cfg.port, handler: logged(tc.httpHandler(redirectToHTTPS(func() int { return tlsPort })))},
		}
		prefetch = tc.prefetch
	}
	if err := listenAll(cfg.bind, servers, logger); err != nil {
		return err
	}
	if _, port, err := net.SplitHostPort(servers[0].ln.Addr().String()); err == nil && cfg.tls() {
		tlsPort, _ = strconv.Atoi(port)
	}
	if cfg.redirectPort != 0 {
		tlsPort = cfg.redirectPort
	}
	limitConns(cfg.maxConns, servers, logger)
	ready(logger)
	if prefetch != nil {
		go prefetch(ctx)
	}
	return serve(ctx, servers, cfg.shutdownTimeout, logger)
}

// siteHandler serves the embedded site, and the about page.
func siteHandler(logger *slog.Logger) (http.Handler, error) {
	files, err := static.New(site(), static.Options{NotFound: "404.html", Logger: logger})
	if err != nil {
		return nil, err
	}
	served := new(atomic.Int64)
	mux := http.NewServeMux()
	mux.Handle("GET /about", &aboutPage{info: readImageInfo(os.Getenv, os.Executable), site: site(), served: served})
	mux.Handle("/", files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		mux.ServeHTTP(w, r)
	}), nil
}

// ready notes the end of the boot.
func ready(logger *slog.Logger) {
	now := time.Now()
	bootReady.Store(&now)
	logger.Info("ready", "boot", now.Sub(processStart).Round(time.Microsecond))
}

// bootReady is when the listeners were up; the about page reports it.
var bootReady atomic.Pointer[time.Time]

// server is one listener and what serves it.
type server struct {
	name    string
	port    int
	tls     *tls.Config
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
}

// listenAll opens the servers' listeners on the image's network.
func listenAll(bind string, servers []*server, logger *slog.Logger) error {
	for _, s := range servers {
		addr := net.JoinHostPort(bind, strconv.Itoa(s.port))
		ln, err := stack.Listen("tcp", addr)
		if err != nil {
			for _, o := range servers {
				if o.ln != nil {
					o.ln.Close()
				}
			}
			return fmt.Errorf("%s: %w", s.name, err)
		}
		s.ln = ln
		s.srv = newHTTPServer(s.handler, s.tls, logger)
		logger.Info("listening", "proto", s.name, "addr", ln.Addr().String())
	}
	return nil
}

// limitConns puts the servers' listeners under one connection limit, max
// or the default, if any (see connLimit).
func limitConns(max int, servers []*server, logger *slog.Logger) {
	if max == 0 {
		max = defaultMaxConns()
	}
	if max == 0 {
		return
	}
	var limit *connLimit
	limit = newConnLimit(max, func(on bool, active int) {
		for _, s := range servers {
			s.srv.SetKeepAlivesEnabled(!on)
		}
		if on {
			logger.Warn("connections near the limit: keep-alive off", "active", active, "max", max)
		} else {
			logger.Info("connections well under the limit: keep-alive on", "active", active, "max", max, "reset_over_limit", limit.shed.Swap(0))
		}
	})
	for _, s := range servers {
		s.ln = limit.listener(s.ln)
	}
	logger.Info("connection limit", "max", max)
}

// limits bound what a client can hold of the image: its time, a
// goroutine and buffers of its connection, and memory. net/http has no
// limits but on the header's size, 1 MiB, and nginx's defaults are of the
// same order as these.
var limits = struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}{
	// A request's header must come within readHeader, and all of it,
	// body included, within read: a body that stalls, or never comes
	// after "Expect: 100-continue", would otherwise keep its connection
	// for ever (the site takes no bodies, but net/http reads up to 256
	// KiB of one to keep the connection). On HTTP/1 it also cancels the
	// context of a request still answered after read; nothing here
	// watches it.
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	// A response must be written within write: a client that stops
	// reading would otherwise block its handler for ever. The largest
	// file of the site, 100 KiB, needs 2 KB/s.
	write: time.Minute,
	idle:  2 * time.Minute,
	// A request's header may be 64 KiB (nginx: 32 KiB), not net/http's
	// 1 MiB, with which 300 clients sending headers that never end
	// exhaust a 256 MiB VM.
	maxHeaderBytes: 64 << 10,
}

// newHTTPServer returns the server of one listener.
func newHTTPServer(h http.Handler, tc *tls.Config, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: limits.readHeader,
		ReadTimeout:       limits.read,
		WriteTimeout:      limits.write,
		IdleTimeout:       limits.idle,
		MaxHeaderBytes:    limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve runs the servers until ctx is done, then shuts them down: the
// listeners close at once, requests in flight have until timeout.
func serve(ctx context.Context, servers []*server, timeout time.Duration, logger *slog.Logger) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			var err error
			if s.tls != nil {
				err = s.srv.ServeTLS(s.ln, "", "")
			} else {
				err = s.srv.Serve(s.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", s.name, err)
			}
		}()
	}
	select {
	case err := <-errc:
		for _, s := range servers {
			s.srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	var timedOut atomic.Bool
	for _, s := range servers {
		wg.Go(func() {
			if err := s.srv.Shutdown(sctx); err != nil {
				timedOut.Store(true)
				s.srv.Close()
			}
		})
	}
	wg.Wait()
	if timedOut.Load() {
		return errShutdownTimeout
	}
	logger.Info("stopped")
	return nil
}

// redirectToHTTPS sends plain HTTP requests to the same URL on HTTPS, on
// the port tlsPort returns.
func redirectToHTTPS(port func() int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tlsPort := port()
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "400 a Host header is needed", http.StatusBadRequest)
			return
		}
		if tlsPort != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(tlsPort))
		} else if net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
			host = "[" + host + "]"
		}
		code := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), code)
	})
}
