package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
	// Mozilla's root CAs, for where the system has none (a VM): so that
	// the ACME client can trust a public CA's server.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/morgana-os/morgana/block"
	"github.com/morgana-os/morgana/files"
	"github.com/morgana-os/morgana/stack"
	"github.com/morgana-os/morgana/web/certstore"
)

// minTLS is TLS 1.3: every browser of the last years speaks it, and it
// leaves out the ciphers and renegotiation of the versions before.
const minTLS = tls.VersionTLS13

// tlsSetup is where the HTTPS server gets its certificates.
type tlsSetup struct {
	config  *tls.Config
	manager *autocert.Manager // nil with --cert
	// prefetch gets the certificates at start-up rather than at the first
	// handshake: from the store when they are there, from the CA when not.
	prefetch func(context.Context)
	closers  []io.Closer
}

func newTLS(cfg *config, logger *slog.Logger) (*tlsSetup, error) {
	if cfg.certFile != "" {
		cert, err := loadKeyPair(cfg.certFile, cfg.keyFile)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		return &tlsSetup{config: &tls.Config{MinVersion: minTLS, Certificates: []tls.Certificate{cert}}}, nil
	}
	return newACME(cfg, logger)
}

// loadKeyPair is tls.LoadX509KeyPair through package files: in a VM the
// files are in the tar archive on the block device "files".
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := files.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := files.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// httpHandler is what the plain HTTP port serves: ACME's http-01
// challenges, and fallback for everything else.
func (t *tlsSetup) httpHandler(fallback http.Handler) http.Handler {
	if t.manager != nil {
		return t.manager.HTTPHandler(fallback)
	}
	return fallback
}

func (t *tlsSetup) close() {
	for _, c := range t.closers {
		c.Close()
	}
}

func newACME(cfg *config, logger *slog.Logger) (*tlsSetup, error) {
	client, err := acmeHTTPClient(cfg.acmeCARoot)
	if err != nil {
		return nil, err
	}
	t := &tlsSetup{}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(cfg.acmeDomains...),
		Email:      cfg.acmeEmail,
		Client:     &acme.Client{DirectoryURL: cfg.acmeDirectory, HTTPClient: client, UserAgent: "morgana-website"},
	}
	var store *certstore.Store
	if cfg.cache != "" || cfg.cacheDevice != "" {
		// A block device (--cache-device cache with morgana run
		// --block cache=FILE, in any mode), or a host file (--cache).
		var dev certstore.Device
		name := cfg.cache
		if cfg.cacheDevice != "" {
			d, err := block.Open(cfg.cacheDevice)
			if err != nil {
				return nil, err
			}
			dev, name = d, "block device "+cfg.cacheDevice
		} else {
			f, err := certstore.OpenFile(cfg.cache, cfg.cacheSize)
			if err != nil {
				return nil, err
			}
			dev = f
		}
		t.closers = append(t.closers, dev.(io.Closer))
		if store, err = certstore.Open(dev, certstore.Options{Logger: logger}); err != nil {
			dev.(io.Closer).Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m.Cache = reportingCache{store, logger}
		logger.Info("certificate store", "device", name, "keys", store.Keys())
	} else {
		logger.Warn("no --cache: the ACME account and certificates are kept in memory, and issued again at every start")
	}
	t.manager = m
	t.config = m.TLSConfig()
	t.config.MinVersion = minTLS
	t.config.GetCertificate = ecdsaForTLS13(m.GetCertificate)
	t.prefetch = func(ctx context.Context) {
		for _, d := range cfg.acmeDomains {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			cert, err := t.config.GetCertificate(helloFor(d))
			if err != nil {
				logger.Error("certificate", "domain", d, "err", err)
				continue
			}
			attrs := []any{"domain", d, "took", time.Since(start).Round(time.Millisecond)}
			if cert.Leaf != nil {
				attrs = append(attrs, "serial", cert.Leaf.SerialNumber.Text(16), "issuer", cert.Leaf.Issuer.CommonName, "expires", cert.Leaf.NotAfter.Format(time.DateOnly))
			}
			logger.Info("certificate ready", attrs...)
		}
	}
	return t, nil
}

// reportingCache logs what the store refuses (a full device, say): autocert
// ignores the errors of Cache.Put, and a certificate that was not stored
// would be issued again at the next start without a word.
type reportingCache struct {
	autocert.Cache
	log *slog.Logger
}

func (c reportingCache) Put(ctx context.Context, key string, data []byte) error {
	err := c.Cache.Put(ctx, key, data)
	if err != nil {
		c.log.Error("certificate store: not stored", "key", key, "err", err)
	}
	return err
}

func (c reportingCache) Delete(ctx context.Context, key string) error {
	err := c.Cache.Delete(ctx, key)
	if err != nil {
		c.log.Error("certificate store: not deleted", "key", key, "err", err)
	}
	return err
}

// acmeHTTPClient talks to the ACME server over the image's network,
// trusting only caRoot when it is given.
func acmeHTTPClient(caRoot string) (*http.Client, error) {
	tr := &http.Transport{
		DialContext:           stack.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	if caRoot != "" {
		pem, err := files.ReadFile(caRoot)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-root: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-root %s: no PEM certificate in it", caRoot)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr}, nil
}

// helloFor is the ClientHello of a modern client for domain: what prefetch
// asks autocert with, so it gets the ECDSA certificate browsers will get.
func helloFor(domain string) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		ServerName:        domain,
		CipherSuites:      []uint16{tls.TLS_AES_128_GCM_SHA256},
		SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:   []tls.CurveID{tls.X25519, tls.CurveP256},
		SupportedVersions: []uint16{tls.VersionTLS13},
	}
}

// ecdsaForTLS13 adapts autocert to a TLS 1.3 server. autocert decides
// between its ECDSA and RSA certificates partly by the TLS 1.2 cipher suites
// a client offers; in TLS 1.3 those say nothing about the certificate, so a
// client offering only TLS 1.3 suites would be given an RSA certificate,
// issued for it alone. Here such a client counts as ECDSA-capable when its
// signature schemes and curves say so.
func ecdsaForTLS13(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	const ecdsaSuite = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if !slices.Contains(hello.SupportedVersions, tls.VersionTLS13) || slices.Contains(hello.CipherSuites, ecdsaSuite) {
			return get(hello)
		}
		h := *hello
		h.CipherSuites = append(slices.Clone(hello.CipherSuites), ecdsaSuite)
		return get(&h)
	}
}
