package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/morgana-os/morgana/web/certstore"
)

// A store that refuses a certificate says so in the log.
func TestReportingCache(t *testing.T) {
	var log bytes.Buffer
	store, err := certstore.Open(certstore.NewMem(8<<10), certstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c := reportingCache{store, slog.New(slog.NewTextHandler(&log, nil))}
	ctx := context.Background()
	if err := c.Put(ctx, "small.example", []byte("cert")); err != nil || log.Len() != 0 {
		t.Fatalf("a Put that fits: %v, log %q", err, log.String())
	}
	err = c.Put(ctx, "big.example", make([]byte, 64<<10))
	if !errors.Is(err, certstore.ErrFull) || !strings.Contains(log.String(), "key=big.example") || !strings.Contains(log.String(), "full") {
		t.Errorf("a Put too big for the device: %v, log %q", err, log.String())
	}
	if v, err := c.Get(ctx, "small.example"); err != nil || string(v) != "cert" {
		t.Errorf("Get after a refused Put: %q, %v", v, err)
	}
}

func TestECDSAForTLS13(t *testing.T) {
	const ecdsaSuite = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	tests := []struct {
		name  string
		hello tls.ClientHelloInfo
		added bool
	}{
		{"TLS 1.3 only", tls.ClientHelloInfo{SupportedVersions: []uint16{tls.VersionTLS13}, CipherSuites: []uint16{tls.TLS_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 and 1.3 with ECDSA suites", tls.ClientHelloInfo{SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12}, CipherSuites: []uint16{ecdsaSuite}}, false},
		{"TLS 1.2 only, RSA", tls.ClientHelloInfo{SupportedVersions: []uint16{tls.VersionTLS12}, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, false},
	}
	for _, tt := range tests {
		var seen []uint16
		get := ecdsaForTLS13(func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			seen = h.CipherSuites
			return nil, nil
		})
		orig := slices.Clone(tt.hello.CipherSuites)
		get(&tt.hello)
		if got := slices.Contains(seen, ecdsaSuite) && !slices.Contains(orig, ecdsaSuite); got != tt.added {
			t.Errorf("%s: suites %x, ECDSA added %v, want %v", tt.name, seen, got, tt.added)
		}
		if !slices.Equal(tt.hello.CipherSuites, orig) {
			t.Errorf("%s: the client's hello was changed", tt.name)
		}
	}
}
