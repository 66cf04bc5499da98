# runo build and test entry points. `make test` is what CI runs.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO        ?= go
BINARY    := bin/runo
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT) -extldflags "-static"
# Static (no dynamic loader on each of the three execs of a container start),
# without urfave/cli's man/markdown generators (their package init costs
# milliseconds on every start) and without NSS (osusergo, netgo).
BUILDTAGS := urfave_cli_no_docs osusergo netgo
# Toolchain experiments that make each of runo's short-lived processes cheaper
# (README, "Performance"): jsonv2 backs encoding/json with the v2 decoder,
# which resolves only the types a document uses (v1 builds codecs for the
# whole runtime-spec type graph on the first decode: about 1 ms in the CLI
# and again in init); nogreenteagc keeps the mark bits out of the heap's spans,
# so the first object of each size class touches one page instead of two.
# Both change cost only: the unit tests run with the same setting.
RUNO_GOEXPERIMENT := jsonv2,nogreenteagc
DEB_DEPS  := libseccomp-dev pkg-config busybox-static gcc make
# Unit packages: everything except the integration suite, which needs the
# built binary and is run separately below.
UNIT_PKGS  = $(shell $(GO) list ./... | grep -vE "/tests/(integration|security)")

.PHONY: all build deps demo test unit integration vet clean

# Installs the Debian packages that are missing (tests/apt-install.sh); fragments use it too.
APT_INSTALL := bash $(CURDIR)/tests/apt-install.sh

include tests/conformance/conformance.mk
include tests/bench/bench.mk
include tests/security/security.mk
include tests/guest/guest.mk
include tests/engines/engines.mk

all: build

build:
	CGO_ENABLED=1 GOEXPERIMENT=$(RUNO_GOEXPERIMENT) $(GO) build -trimpath -tags "$(BUILDTAGS)" -ldflags '$(LDFLAGS)' -o $(BINARY) .

# Install only what is missing; `apt-get update` only when something is.
deps:
	@$(APT_INSTALL) $(DEB_DEPS)

demo: deps build
	bash tests/demo.sh $(abspath $(BINARY))

vet:
	$(GO) vet ./...

unit:
	GOEXPERIMENT=$(RUNO_GOEXPERIMENT) $(GO) test -count=1 $(UNIT_PKGS)

# -v output goes to a log; the console shows everything but the per-test
# RUN/PASS chatter, then a pass/fail count line.
integration:
	@log=$$(mktemp /tmp/runo-integration.XXXXXX); \
	RUNO_BINARY=$(abspath $(BINARY)) RUNO_REQUIRE_BINARY=1 \
		$(GO) test -count=1 -v -timeout 15m ./tests/integration/ >$$log 2>&1; \
	status=$$?; \
	grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' $$log; \
	passed=$$(grep -cE '^\s*--- PASS' $$log); \
	failed=$$(grep -cE '^\s*--- FAIL' $$log); \
	skipped=$$(grep -cE '^\s*--- SKIP' $$log); \
	rm -f $$log; \
	echo "integration: $$passed passed, $$failed failed, $$skipped skipped"; \
	exit $$status

# The whole suite: unit and integration tests, the security PoCs and fuzz
# targets, the OCI conformance suite (fails on any result not in
# tests/conformance/expected-failures.txt), cgroup v2 and LSM checks in a qemu
# guest, and real engines (podman, containerd, docker, CRI) with runo swapped
# in, runc as the control.
test: deps build vet unit integration security fuzz conformance-test conformance \
	test-cgroupv2 test-lsm engines-test test-engines

clean:
	rm -rf bin
	$(GO) clean -testcache
