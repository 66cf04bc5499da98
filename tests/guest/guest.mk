# Checks that need a kernel this host does not have: pure cgroup v2, AppArmor,
# SELinux. Included from the top-level Makefile. Each target compiles test
# binaries here (go test -c), boots a throwaway qemu guest with
# tests/guest/guestrun.sh (Debian's kernel + busybox, all from Debian packages,
# cached in ~/.cache/runo-guest) and runs them there with tests/guest/suite.sh.
#
#   make test-cgroupv2   cgroups package tests + runo cgroup v2 checks (guest, pure v2)
#   make test-lsm        AppArmor (guest), SELinux (guest), no-AppArmor (this host)
#   GUEST_RUN=regexp     only the checks matching it (-test.run of tests/guest/checks)
#   GUEST_FLAGS=-v       extra guestrun.sh flags (-v: kernel console)

GUEST_DIR   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
GUEST_ROOT  := $(abspath $(GUEST_DIR)/../..)
GUEST_BUILD := $(GUEST_DIR)/.build
GUEST_RUN   ?=
GUEST_FLAGS ?=
GUEST_DEB_DEPS := qemu-system-x86 qemu-system-data xz-utils busybox-static
# The repository is shared read-only: nothing in the guest can change it.
GUEST_VM = $(GUEST_DIR)/guestrun.sh -s $(GUEST_ROOT):ro -L $(GUEST_ROOT)/bin/runo \
	-e RUNO_BINARY=$(GUEST_ROOT)/bin/runo -e RUNO_REQUIRE_BINARY=1 $(GUEST_FLAGS)
GUEST_SUITE = sh $(GUEST_DIR)/suite.sh

.PHONY: test-cgroupv2 test-lsm guest-deps guest-binaries guest-clean

guest-deps:
	@$(APT_INSTALL) -n $(GUEST_DEB_DEPS)

# Static test binaries: the guest has no Go toolchain and no libc besides
# what guestrun.sh copies for runo.
guest-binaries:
	@mkdir -p $(GUEST_BUILD)
	cd $(GUEST_ROOT) && CGO_ENABLED=0 go test -c -o $(GUEST_BUILD)/cgroups.test ./cgroups/
	cd $(GUEST_ROOT) && CGO_ENABLED=0 go test -c -o $(GUEST_BUILD)/checks.test ./tests/guest/checks/

test-cgroupv2: guest-deps build guest-binaries
	@start=$$(date +%s); \
	$(GUEST_VM) -t 900 -- $(GUEST_SUITE) test-cgroupv2 $(GUEST_BUILD) \
		cgroups.test:$(GUEST_ROOT)/cgroups: \
		checks.test:$(GUEST_DIR)/checks:'$(if $(GUEST_RUN),$(GUEST_RUN),^Test(Driver|Runo)V2)'; \
	rc=$$?; echo "test-cgroupv2: wall time $$(( $$(date +%s) - start )) s"; exit $$rc

test-lsm: guest-deps build guest-binaries $(GUEST_BUILD)/selinux.policy
	@start=$$(date +%s); rc=0; \
	echo "######## AppArmor guest"; \
	$(GUEST_VM) -t 600 -l apparmor -p apparmor -- $(GUEST_SUITE) apparmor $(GUEST_BUILD) \
		checks.test:$(GUEST_DIR)/checks:'^TestAppArmor' || rc=1; \
	echo "######## SELinux guest (permissive, tests/guest/selinux/policy.cil)"; \
	$(GUEST_VM) -t 600 -l selinux -P $(GUEST_BUILD)/selinux.policy -- $(GUEST_SUITE) selinux $(GUEST_BUILD) \
		checks.test:$(GUEST_DIR)/checks:'^TestSELinux' || rc=1; \
	echo "######## this host (no AppArmor expected)"; \
	RUNO_BINARY=$(GUEST_ROOT)/bin/runo RUNO_REQUIRE_BINARY=1 $(GUEST_SUITE) host-lsm $(GUEST_BUILD) \
		checks.test:$(GUEST_DIR)/checks:'^TestAppArmorUnavailable' || rc=1; \
	echo "test-lsm: wall time $$(( $$(date +%s) - start )) s"; exit $$rc

# secilc and libsepol2 are unpacked from Debian's packages, never installed.
$(GUEST_BUILD)/selinux.policy: $(GUEST_DIR)/selinux/policy.cil $(GUEST_DIR)/selinux/build.sh
	@mkdir -p $(GUEST_BUILD)
	bash $(GUEST_DIR)/selinux/build.sh $< $@

guest-clean:
	rm -rf $(GUEST_BUILD)
