# Side-by-side benchmark of runo, runc and crun (tests/bench/README.md).
# Included from the top Makefile. `make bench` for the full run,
# `make bench BENCH_N=5` for a smoke test. Needs root; not run by CI.
GO         ?= go
BINARY     ?= bin/runo
BENCH_DIR  := tests/bench
BENCH_N    ?= 50
BENCH_PAR  ?= 100
BENCH_OUT  ?= $(BENCH_DIR)/out
BENCH_ARGS ?=
BENCH_TOOLS := $(BENCH_DIR)/out/bin
BENCH_DEB_DEPS := runc crun busybox-static

.PHONY: bench bench-deps bench-tools

bench-deps:
	@$(APT_INSTALL) $(BENCH_DEB_DEPS)

# The harness and the kernel-floor helper live in their own module
# (tests/bench/go.mod) so runo's go.mod stays free of plotting deps.
bench-tools:
	cd $(BENCH_DIR) && $(GO) build -o out/bin/runobench ./cmd/runobench
	cd $(BENCH_DIR) && $(GO) build -o out/bin/nsfloor ./cmd/nsfloor

bench: build bench-deps bench-tools
	$(BENCH_TOOLS)/runobench -runo $(abspath $(BINARY)) -floor $(abspath $(BENCH_TOOLS))/nsfloor \
		-n $(BENCH_N) -par $(BENCH_PAR) -out $(abspath $(BENCH_OUT)) $(BENCH_ARGS)
