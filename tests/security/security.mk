# Security PoC suite and fuzz targets (tests/security). Include from the top
# Makefile:  include tests/security/security.mk
# `make security` needs the built binary (make build) and root; run
# `make security SECURITY_BINARY=/usr/sbin/runc` to aim the same attacks at runc.
SECURITY_BINARY ?= $(abspath $(BINARY))
# Iterations, not seconds: with a time budget, Go's fuzz coordinator (before Go 1.27,
# golang/go#75804) can report "context deadline exceeded" as a failure when -fuzztime runs
# out mid-input; a count has no deadline to race.
FUZZTIME        ?= 100000x
FUZZ_TARGETS    := \
	FuzzParseSpec:./libcontainer/ \
	FuzzValidateID:./libcontainer/ \
	FuzzSeccompBuild:./seccomp/ \
	FuzzParseMountOptions:./libcontainer/rootfs/ \
	FuzzContainerPaths:./libcontainer/rootfs/

.PHONY: security fuzz

# The -v log goes to a file; the console gets the per-test results (the
# whole log when something failed) and a pass/fail count line.
security:
	@log=$$(mktemp /tmp/runo-security.XXXXXX); \
	RUNO_BINARY=$(SECURITY_BINARY) RUNO_REQUIRE_BINARY=1 \
		$(GO) test -count=1 -v -timeout 5m ./tests/security/ >$$log 2>&1; \
	status=$$?; \
	if [ $$status -ne 0 ]; then grep -vE '^\s*=== (RUN|PAUSE|CONT|NAME)' $$log; \
	else grep -E '^\s*--- (PASS|FAIL|SKIP)|^(FAIL|ok|panic)' $$log; fi; \
	passed=$$(grep -cE '^\s*--- PASS' $$log); \
	failed=$$(grep -cE '^\s*--- FAIL' $$log); \
	skipped=$$(grep -cE '^\s*--- SKIP' $$log); \
	rm -f $$log; \
	echo "security: $$passed passed, $$failed failed, $$skipped skipped"; \
	exit $$status

# Each target runs FUZZTIME iterations on one worker (the machine is shared); a
# crasher is written to <pkg>/testdata/fuzz/<target>/ and fails the run.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg; \
	done
