package security

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestCVE_2026_41579_DevSymlink: an image whose /dev is a symlink made the
// runtime's /dev setup (device nodes, the /dev/fd, /dev/ptmx... symlinks)
// follow it with host path resolution before pivot_root, so an absolute link
// ("/dev -> /some/host/dir") or a relative one climbing out of the rootfs
// created files in, or mounted over, a host directory.
//
// Reproduction: rootfs/dev is replaced by a symlink to a host directory H
// holding one sentinel file, absolute and relative ("../"*16 + H), with and
// without a tmpfs /dev mount in the config. Whatever the runtime does with
// the container, H must still hold exactly the sentinel with its content.
//
// Why it fails without the defence: runo resolves /dev inside the root with
// openat2(RESOLVE_IN_ROOT) (root.mkdirAll/open in libcontainer/rootfs/
// secure.go) and creates every node and link relative to that fd (setupDev,
// devSymlinks in devices.go). With path-based creation (filepath.Join(rootfs,
// "/dev/null")) the kernel follows the link to H: mknod/symlink put "null",
// "fd", "ptmx"... into H and the tree comparison below fails. runc 1.1.5
// creates the /dev symlinks with os.Symlink(filepath.Join(rootfs, "dev/fd"))
// and fails this test.
func TestCVE_2026_41579_DevSymlink(t *testing.T) {
	for _, tc := range []struct {
		name     string
		relative bool
		devMount bool
	}{
		{"absolute-tmpfs-dev", false, true},
		{"relative-tmpfs-dev", true, true},
		{"absolute-no-dev-mount", false, false},
		{"relative-no-dev-mount", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hostDir(t, "dev")
			if err := os.WriteFile(filepath.Join(h, "sentinel"), []byte("host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
				s.Process.Args = sh("ls -la /dev/ /dev/null; echo x > /dev/null")
				if !tc.devMount {
					s.Mounts = withoutMount(withoutMount(withoutMount(s.Mounts, "/dev"), "/dev/shm"), "/dev/mqueue")
				}
			}))
			target := h
			if tc.relative {
				target = strings.Repeat("../", 16) + h[1:]
			}
			dev := filepath.Join(b.Rootfs, "dev")
			if err := os.Remove(dev); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dev); err != nil {
				t.Fatal(err)
			}
			r := b.Run()
			t.Logf("%s: exit %d, stderr %q", progName(), r.ExitCode, firstLine(r.Stderr))
			if got := listTree(h); !reflect.DeepEqual(got, []string{"sentinel"}) {
				t.Errorf("the host directory behind the /dev symlink was changed: now holds %q", got)
			}
			if got := readFile(t, filepath.Join(h, "sentinel")); got != "host\n" {
				t.Errorf("host sentinel rewritten: %q", got)
			}
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(h, "sentinel"), &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Errorf("host sentinel was replaced by mode %#o", st.Mode)
			}
		})
	}
}
