package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

const fakeSysctl = "host-file-not-a-sysctl\n"

// fakeProcTree lays out the files a sysctl or LSM write would reach under a
// fake /proc rooted at dir.
func fakeProcTree(t *testing.T, dir string) []string {
	t.Helper()
	files := []string{"sys/net/ipv4/ip_forward", "self/attr/exec", "self/attr/apparmor/exec", "thread-self/attr/exec"}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fakeSysctl), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func assertFakeUntouched(t *testing.T, dir string, files []string) {
	t.Helper()
	for _, f := range files {
		if got, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(got) != fakeSysctl {
			t.Errorf("fake %s was written: %q (%v): a sysctl/LSM write was redirected", f, got, err)
		}
	}
}

// sharedTmpfs mounts a tmpfs of our own at a fresh host directory and makes it
// a shared mount, so mounts made below it propagate (CVE-2025-52881 used a
// shared mount to move the target of a procfs write under the runtime).
func sharedTmpfs(t *testing.T) string {
	t.Helper()
	d := hostDir(t, "shared")
	if err := unix.Mount("tmpfs", d, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", d, err)
	}
	t.Cleanup(func() { unix.Unmount(d, unix.MNT_DETACH) })
	if err := unix.Mount("", d, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", d, err)
	}
	return d
}

// TestFakeProcRedirectsWrites covers three CVEs of one class, where the
// runtime's writes to procfs (the AppArmor/SELinux exec label, sysctls) go to
// a file the container controls instead, so the LSM profile is silently not
// applied or a "namespaced" sysctl write lands on a host file:
//   - CVE-2019-16884: a volume mounted over /proc with fake attr files made
//     runc write the AppArmor profile into a plain file;
//   - CVE-2019-19921 / CVE-2023-27561 (its re-introduction): a racing symlink
//     let a volume land on /proc;
//   - CVE-2025-52881: a shared mount let the target of /proc/sys writes be
//     replaced by a bind of a host tmpfs.
//
// Reproduction: each case gives a config with net.ipv4.ip_forward set (a
// sysctl runo allows, being per network namespace) and a fake /proc tree
// whose files hold a sentinel: /proc a symlink to an in-image directory with
// no procfs mount; a host directory bind-mounted over /proc or over /proc/sys;
// a tmpfs over /proc/sys; a shared host tmpfs bound over /proc or /proc/sys.
// Each create must fail and every fake file keep its sentinel.
//
// Why it fails without the defences: runo refuses any mount on /proc that is
// not procfs and any mount inside /proc (checkProcMount in
// libcontainer/rootfs/mount.go), and writes sysctls/labels only through an fd
// of /proc opened O_NOFOLLOW and verified with fstatfs(PROC_SUPER_MAGIC),
// each file re-verified the same way (openProcfs/writeProcFile in
// libcontainer/process.go). The symlinked-/proc case is caught by the procfs
// check alone: without it, "1" is written into rootfs/fakeproc and the
// sentinel assertion fails. The bind cases need both defences gone to write
// the host file (either one alone blocks them); runc 1.1.5 passes those (it
// has checkProcMount and, since 1.1.5, the CVE-2023-27561/28642 fixes).
func TestFakeProcRedirectsWrites(t *testing.T) {
	sysctl := map[string]string{"net.ipv4.ip_forward": "1"}
	for _, tc := range []struct {
		name string
		// setup prepares the attack on the bundle and returns the fake /proc
		// root whose files must stay untouched.
		setup func(t *testing.T, b *testbundle.Bundle) string
	}{
		{"CVE-2023-27561/proc-symlink-no-procfs", func(t *testing.T, b *testbundle.Bundle) string {
			fake := filepath.Join(b.Rootfs, "fakeproc")
			os.Remove(filepath.Join(b.Rootfs, "proc"))
			if err := os.Symlink("fakeproc", filepath.Join(b.Rootfs, "proc")); err != nil {
				t.Fatal(err)
			}
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = withoutMount(s.Mounts, "/proc")
				// A writable image, so that only the procfs check stands
				// between the sysctl write and the fake file.
				s.Root.Readonly = false
			})
			return fake
		}},
		{"CVE-2019-16884/host-dir-over-proc", func(t *testing.T, b *testbundle.Bundle) string {
			h := hostDir(t, "fakeproc")
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc", Type: "bind", Source: h, Options: []string{"rbind", "rw"}})
			})
			return h
		}},
		{"CVE-2019-19921/host-dir-over-proc-sys", func(t *testing.T, b *testbundle.Bundle) string {
			h := hostDir(t, "fakeproc")
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/sys", Type: "bind", Source: filepath.Join(h, "sys"), Options: []string{"rbind", "rw"}})
			})
			return h
		}},
		{"tmpfs-over-proc-sys", func(t *testing.T, b *testbundle.Bundle) string {
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"})
			})
			return hostDir(t, "unused")
		}},
		{"CVE-2025-52881/shared-tmpfs-over-proc", func(t *testing.T, b *testbundle.Bundle) string {
			h := sharedTmpfs(t)
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc", Type: "bind", Source: h, Options: []string{"rbind", "rw", "rshared"}})
			})
			return h
		}},
		{"CVE-2025-52881/shared-tmpfs-over-proc-sys", func(t *testing.T, b *testbundle.Bundle) string {
			h := sharedTmpfs(t)
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/sys", Type: "bind", Source: filepath.Join(h, "sys"), Options: []string{"rbind", "rw", "rshared"}})
			})
			return h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
				s.Linux.Sysctl = sysctl
				s.Process.Args = sh("cat /proc/sys/net/ipv4/ip_forward")
			}))
			fake := tc.setup(t, b)
			files := fakeProcTree(t, fake)
			// stdin is a pipe, not /dev/null: with no procfs the runtime could
			// not re-point a /dev/null stdio at the container's, and would fail
			// for that reason before ever reaching the sysctl write.
			c := b.Command("run", "--bundle", b.Dir, b.ID)
			c.Stdin = strings.NewReader("")
			r := c.Run()
			t.Logf("%s: exit %d stdout %q stderr %q", progName(), r.ExitCode, r.Stdout, firstLine(r.Stderr))
			if r.ExitCode == 0 {
				t.Errorf("the container ran with a fake procfs (stdout %q)", r.Stdout)
			}
			assertFakeUntouched(t, fake, files)
		})
	}
}
