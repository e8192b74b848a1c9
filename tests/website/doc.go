// Package website holds the integration tests of examples/website: the
// example runs as a host process (built once per run, or through
// `morgana run --mode unix`), and real clients talk to it: curl over
// HTTP/1.1 and HTTP/2 with TLS 1.3, checking content types, validators,
// conditional and range requests, content negotiation and the 404 page; a
// certificate issued by pebble, Let's Encrypt's test ACME server, built from
// the Go module proxy and bound to loopback; SIGTERM with a request in
// flight; and headless Chromium, which must render the demo page.
//
// Run them with `go test ./tests/website`. Tests that need a command the
// machine lacks (curl, chromium) skip, and fail instead with
// MORGANA_REQUIRE_COMMANDS=1, except the browser test, which always skips
// without Chromium (see screenshot_test.go).
package website
