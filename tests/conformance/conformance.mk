# OCI runtime-tools v0.9.0 validation suite as runo's conformance test.
# Included from the top-level Makefile; every path here is absolute so the
# fragment works from any directory.
#
#   make conformance                      build runo, then run the suite against bin/runo
#   make conformance-run RUNTIME=/usr/sbin/runc CONFORMANCE_EXPECTED=
#                                         run against another runtime, no build of runo
#   RUNTIME_ARGS="--debug"                global flags put before every runtime sub-command
#   CONFORMANCE_RUN='^linux_ns_'          only the programs matching this regexp
#   CONFORMANCE_NS_SETUP='umount /sys/fs/cgroup/unified'
#                                         shell run in each program's private mount namespace
#   CONFORMANCE_FLAGS='-timeout 90s -keep' any other flag of the runner
#
# The suite (58 validation programs, runtimetest, the busybox rootfs) is built
# from the Go module cache into tests/conformance/.build; logs of the last run
# land in tests/conformance/.build/logs/<runtime>/<program>.log.

CONFORMANCE_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CONFORMANCE_BUILD := $(CONFORMANCE_DIR)/.build
CONFORMANCE_RUNTIME ?= $(if $(RUNTIME),$(RUNTIME),$(CURDIR)/bin/runo)
CONFORMANCE_EXPECTED ?= $(CONFORMANCE_DIR)/expected-failures.txt
CONFORMANCE_RUN ?=
CONFORMANCE_NS_SETUP ?=
CONFORMANCE_FLAGS ?=
# The nested module must never be resolved through a workspace of the parent.
CONFORMANCE_GO := cd $(CONFORMANCE_DIR) && GOWORK=off GOFLAGS='-mod=readonly -buildvcs=false' go

.PHONY: conformance conformance-run conformance-suite conformance-test conformance-clean

# Prerequisites, not a sub-make: with -j, `build` must still finish before the
# suite starts, so the run is a recipe of both targets.
conformance: build conformance-suite
	$(CONFORMANCE_RUN_CMD)

conformance-run: conformance-suite
	$(CONFORMANCE_RUN_CMD)

CONFORMANCE_RUN_CMD = $(CONFORMANCE_BUILD)/conformance \
	-build $(CONFORMANCE_BUILD) \
	-runtime '$(CONFORMANCE_RUNTIME)' \
	-runtime-args '$(RUNTIME_ARGS)' \
	-expected '$(CONFORMANCE_EXPECTED)' \
	-run '$(CONFORMANCE_RUN)' \
	-ns-setup '$(CONFORMANCE_NS_SETUP)' \
	$(CONFORMANCE_FLAGS)

# go build is incremental, so this is cheap once the cache is warm.
# runtimetest runs inside the busybox rootfs, which has no libc: CGO off.
# It is built with the rlimitoverlay patch (see cmd/rlimitoverlay).
conformance-suite:
	@mkdir -p $(CONFORMANCE_BUILD)/bin
	$(CONFORMANCE_GO) build -o $(CONFORMANCE_BUILD)/bin/ github.com/opencontainers/runtime-tools/validation/...
	$(CONFORMANCE_GO) run ./cmd/rlimitoverlay -o $(CONFORMANCE_BUILD)/overlay
	cd $(CONFORMANCE_DIR) && CGO_ENABLED=0 GOWORK=off GOFLAGS='-mod=readonly -buildvcs=false' go build \
		-overlay $(CONFORMANCE_BUILD)/overlay/overlay.json -o $(CONFORMANCE_BUILD)/runtimetest \
		github.com/opencontainers/runtime-tools/cmd/runtimetest
	$(CONFORMANCE_GO) build -o $(CONFORMANCE_BUILD)/conformance ./cmd/conformance
	@rt="$$($(CONFORMANCE_GO) list -m -f '{{.Dir}}' github.com/opencontainers/runtime-tools)" && \
		install -m 0644 "$$rt/rootfs-amd64.tar.gz" $(CONFORMANCE_BUILD)/rootfs-amd64.tar.gz

# Unit tests of the runner itself (TAP parsing, verdicts, expected list).
conformance-test:
	$(CONFORMANCE_GO) vet ./...
	$(CONFORMANCE_GO) test ./...

conformance-clean:
	rm -rf $(CONFORMANCE_BUILD)
