#!/usr/bin/env bash
# scripts/test.sh: what `make test` runs, locally and in CI (.ci/run). It installs the tools the
# tests need when they are missing, then runs go vet, a gofmt check and every test, with KVM
# required: a machine without usable KVM fails here instead of skipping the VM tests.
#
# Environment:
#   MORGANA_LONG_TESTS=1   also run the long tests (the whole standard-library list)
#   MORGANA_TEST_MODES=... run only these modes (comma-separated: native,hvt)
#   GO_TEST_FLAGS=...      more flags for go test (e.g. -v, -run 'TestGuests/hello')
#   MORGANA_REQUIRE_KVM=0  let the VM tests skip on a machine without KVM (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*"; }

# The Go toolchain: go.mod asks for Go 1.26; the machines have it in /usr/local/go, which a
# non-login shell may not have on its PATH. Debian's golang-go is far older, so it is no fallback.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
	echo "test.sh: no go command: install Go 1.26 or later (https://go.dev/dl) and put it on PATH" >&2
	exit 1
fi

# Commands the tests need, as command:debian-package. Add to this list, not elsewhere.
needed=(
	prlimit:util-linux # native runs of the out-of-memory case
	taskset:util-linux # native runs with --cpus
	gcc:gcc            # the cgo bad-input case
	ip:iproute2        # network namespaces, TAPs and bridges of the network tests
	curl:curl          # HTTP peer
	dig:dnsutils       # DNS peer
	nsd:nsd            # the DNS server the DNS example is compared with
	knotd:knot         # a second opinion where NSD and morgana disagree
	dnsmasq:dnsmasq-base # DHCP server for the network tests
	iperf3:iperf3      # TCP peer of the throughput tests
	nginx:nginx-light  # HTTP reference server of the website tests
	socat:socat        # UDP peer
	ping:iputils-ping  # ICMP peer
	chromium:chromium  # the website's screenshot test
)

missing=()
for pair in "${needed[@]}"; do
	command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	# De-duplicate; update the package lists only when something is missing.
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	log "installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# Every step runs even when one before it failed, so one run shows every problem; the script
# fails at the end if any step did.
failed=()

log "go vet ./..."
go vet ./... || failed+=("go vet")

log "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting (run gofmt -w on them):" >&2
	echo "$unformatted" >&2
	failed+=("gofmt")
fi

# The VM tests must run, not skip, and so must tests that need one of the commands above.
export MORGANA_REQUIRE_KVM="${MORGANA_REQUIRE_KVM:-1}"
export MORGANA_REQUIRE_COMMANDS="${MORGANA_REQUIRE_COMMANDS:-1}"
log "go test ./... (MORGANA_REQUIRE_KVM=$MORGANA_REQUIRE_KVM MORGANA_LONG_TESTS=${MORGANA_LONG_TESTS:-0})"
# shellcheck disable=SC2086 # GO_TEST_FLAGS is a list of flags
go test -count=1 -timeout 30m ${GO_TEST_FLAGS:-} ./... || failed+=("go test")

if [ ${#failed[@]} -gt 0 ]; then
	log "FAILED: ${failed[*]}"
	exit 1
fi
log "all checks passed"
