package security

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestCVE_2025_31133_MaskedPathDevNull: runc hid linux.maskedPaths files by
// bind-mounting the container's /dev/null over them without checking what
// /dev/null was. An image (or a racing container process, with a /dev it
// controls) made /dev/null a symlink to /proc/sys/kernel/core_pattern, so the
// "mask" became a writable bind of core_pattern at /proc/kcore etc., and the
// container wrote "|/payload" to it: code execution as host root on the next
// crash.
//
// Reproduction: /dev is bind-mounted from a rootfs directory in which "null"
// is a symlink to /proc/sys/kernel/core_pattern (and /proc/sys is left
// writable, as in a privileged container, so that a mask that lands is
// exploitable). If create succeeds, the container writes a marker into every
// masked file path. kernel.core_pattern (not namespaced: the host's) must
// stay unchanged; the test restores it either way.
//
// Why it fails without the defence: runo opens /dev/null with O_NOFOLLOW and
// checks it is the 1:3 character device (openDevNull in
// libcontainer/rootfs/setup.go) before any mask bind. Without that check the
// bind follows the symlink, /proc/kcore becomes core_pattern, the
// container's write lands and the core_pattern assertion fails. runc 1.1.5
// fails this test.
func TestCVE_2025_31133_MaskedPathDevNull(t *testing.T) {
	before := coreGuard(t)
	b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Linux.ReadonlyPaths = nil
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/proc/sysrq-trigger")
		s.Mounts = withoutMount(withoutMount(withoutMount(withoutMount(s.Mounts, "/dev"), "/dev/pts"), "/dev/shm"), "/dev/mqueue")
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: "rootfs/fakedev", Options: []string{"rbind", "rw"}})
		var writes string
		for _, p := range s.Linux.MaskedPaths {
			if p != "/proc/sysrq-trigger" {
				writes += "echo runo-cve-2025-31133 > " + p + " 2>/dev/null && echo WROTE " + p + "; "
			}
		}
		s.Process.Args = sh("ls -l /dev/null; " + writes + "cat /proc/sys/kernel/core_pattern")
	}))
	fake := filepath.Join(b.Rootfs, "fakedev")
	if err := os.Mkdir(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(fake, "null")); err != nil {
		t.Fatal(err)
	}
	r := b.Run()
	t.Logf("%s: exit %d\nstdout: %s\nstderr: %s", progName(), r.ExitCode, r.Stdout, firstLine(r.Stderr))
	if after := readFile(t, "/proc/sys/kernel/core_pattern"); after != before {
		t.Errorf("kernel.core_pattern changed through a masked path: %q -> %q", before, after)
	}
}
