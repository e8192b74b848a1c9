# The README's commands: `make demo` boots the website unikernel, `make test` runs every check.
GO ?= go

.PHONY: all build test test-long demo hello bench vet fmt clean

all: build

# bin/morgana: the monitor, a static binary (no cgo: it starts a millisecond sooner, without the
# dynamic loader and glibc, and its spt children inherit no libc threads).
build:
	CGO_ENABLED=0 $(GO) build -o bin/morgana ./cmd/morgana

# Installs missing tools, then go vet, a gofmt check and all tests with KVM required.
test:
	bash scripts/test.sh

# The same with the long tests (every standard-library suite in the VM).
test-long:
	MORGANA_LONG_TESTS=1 bash scripts/test.sh

# Boots the website unikernel (examples/website) and publishes it on http://localhost:8080/;
# Ctrl-C stops it. PORT=N picks another host port.
PORT ?= 8080
demo:
	$(GO) run ./cmd/morgana run -p $(PORT):80 ./examples/website

# Boots examples/hello, which prints and exits.
hello:
	$(GO) run ./cmd/morgana run ./examples/hello

# Native vs VM, measured in the same run: boot, a system call, the clock (package bench).
bench:
	sh bench/run.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')

clean:
	rm -rf bin
