package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestFakeProcRedirectsPostPivotMounts: after pivot_root the only /proc a
// runtime can name is the container's own. When the spec mounts no procfs
// there, the image decides what /proc/self/fd/N is, and a runtime that still
// makes its last mounts through /proc/self/fd/N paths (root.readonly, masked
// and read-only paths, /dev/console) mounts wherever the image points. The
// class is that of CVE-2019-16884 (LSM labels written through an image's
// fake /proc), applied to mount targets.
//
// Reproduction: /proc is a symlink to an in-image tree in which every
// self/fd/N is a symlink to /dev (a tmpfs runo mounted, so a remount of it
// succeeds); root.readonly is set and a masked file exists. The container
// then tries to write to "/" and to the masked file. "/" must be read-only,
// the mask must hide the file's content, and /dev must stay writable: a
// redirected remount makes /dev read-only and leaves "/" writable.
//
// Why it fails without the defence: runo makes every mount after the pivot
// through the fd-based mount API (open_tree, move_mount, mount_setattr in
// libcontainer/rootfs/fdmount.go), and reopens /dev/null by name in /dev,
// so nothing after the pivot resolves a /proc path. With the earlier
// /proc/self/fd/N paths runo followed the image's links: re-pointing the
// /dev/null stdio opened /dev instead ("reopen null: is a directory", the
// run fails), and with other stdio the remount of "/" would land on /dev (the
// first two assertions fail).
func TestFakeProcRedirectsPostPivotMounts(t *testing.T) {
	b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
		s.Mounts = withoutMount(s.Mounts, "/proc")
		s.Root.Readonly = true
		s.Linux.ReadonlyPaths = nil
		s.Linux.MaskedPaths = []string{"/secret"}
		s.Process.Args = sh("touch /rootfs-probe 2>/dev/null && echo ROOT-WRITABLE; " +
			"touch /dev/dev-probe 2>/dev/null && echo DEV-WRITABLE; " +
			"cat /secret 2>/dev/null; echo END")
	}))
	fake := filepath.Join(b.Rootfs, "fakeproc")
	if err := os.Remove(filepath.Join(b.Rootfs, "proc")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Symlink("fakeproc", filepath.Join(b.Rootfs, "proc")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"self/fd", "thread-self/fd"} {
		if err := os.MkdirAll(filepath.Join(fake, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 128; n++ {
			if err := os.Symlink("/dev", filepath.Join(fake, dir, fmt.Sprint(n))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs, "secret"), []byte("SECRET-CONTENT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := b.Run()
	t.Logf("%s: exit %d\nstdout: %s\nstderr: %s", progName(), r.ExitCode, r.Stdout, firstLine(r.Stderr))
	if r.ExitCode != 0 {
		// Refusing the container is safe too, but runo is expected to build it correctly.
		t.Fatalf("run failed: %s", r.Stderr)
	}
	if strings.Contains(r.Stdout, "ROOT-WRITABLE") {
		t.Errorf("root.readonly was not applied to /: the remount was redirected")
	}
	if !strings.Contains(r.Stdout, "DEV-WRITABLE") {
		t.Errorf("/dev became read-only: a remount meant for another mount landed on it")
	}
	if strings.Contains(r.Stdout, "SECRET-CONTENT") {
		t.Errorf("masked path /secret is readable: the mask was redirected")
	}
	if !strings.Contains(r.Stdout, "END") {
		t.Errorf("the container did not run its script: %q", r.Stdout)
	}
}
