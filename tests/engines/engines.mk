# Real engines with runo swapped in for runc by path only, offline
# (tests/engines/README.md). Included from the top Makefile.
#
#   make test-engines                          all engines, runo vs the runc control
#   make test-engines ENGINES=podman,ctr       a subset of engines
#   make test-engines ENGINES_RUN='^(exec|tty)' only matching scenarios
#   make engines-test                          unit tests of the harness itself
#
# Exits non-zero when runo fails a scenario that runc passes, or when a runc
# control fails (an environment problem). Logs of the last run:
# tests/engines/.build/logs/<engine>/<runtime>/<scenario>.log.

ENGINES_DIR   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ENGINES_BUILD := $(ENGINES_DIR)/.build
ENGINES_GO    := cd $(ENGINES_DIR) && GOWORK=off GOFLAGS='-mod=readonly -buildvcs=false' go
ENGINES       ?= podman,ctr,docker,cri
ENGINES_RUN   ?=
ENGINES_FLAGS ?=
ENGINES_RUNC  ?= /usr/sbin/runc
# Newest crictl the module proxy serves; it speaks CRI v1, which containerd 1.6 serves.
CRICTL_VERSION ?= v1.34.0
ENGINES_DEB_DEPS := podman conmon containerd docker.io catatonit tini busybox-static runc util-linux

.PHONY: test-engines engines-deps engines-tools engines-test

test-engines: build engines-deps engines-tools
	@rm -rf $(ENGINES_BUILD)/logs
	$(ENGINES_BUILD)/bin/runo-engines -runo $(abspath $(BINARY)) -runc '$(ENGINES_RUNC)' \
		-engines '$(ENGINES)' -run '$(ENGINES_RUN)' -crictl $(ENGINES_BUILD)/bin/crictl \
		-logs $(ENGINES_BUILD)/logs $(ENGINES_FLAGS)

engines-deps:
	@$(APT_INSTALL) $(ENGINES_DEB_DEPS)

# crictl is built from its Go module outside any go.mod (go install pkg@version).
engines-tools:
	@mkdir -p $(ENGINES_BUILD)/bin
	$(ENGINES_GO) build -o $(ENGINES_BUILD)/bin/runo-engines ./cmd/runo-engines
	@test -x $(ENGINES_BUILD)/bin/crictl || (cd / && GOWORK=off GOFLAGS=-buildvcs=false \
		GOBIN=$(ENGINES_BUILD)/bin go install sigs.k8s.io/cri-tools/cmd/crictl@$(CRICTL_VERSION))

engines-test:
	$(ENGINES_GO) vet ./...
	$(ENGINES_GO) test -count=1 ./...
