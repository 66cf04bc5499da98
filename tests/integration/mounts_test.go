package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// mountLine returns the /proc/self/mountinfo line (from a container's output)
// whose mount point is dest.
func mountLine(t *testing.T, mountinfo, dest string) string {
	t.Helper()
	for _, l := range strings.Split(mountinfo, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dest {
			return l
		}
	}
	t.Fatalf("no mount at %s in:\n%s", dest, mountinfo)
	return ""
}

// hostDirWithSubmount makes a host dir with a file, and a tmpfs mounted at
// its "sub" holding another file; the tmpfs is ours and unmounted in cleanup.
func hostDirWithSubmount(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "top"), []byte("top\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := syscall.Mount("tmpfs", sub, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", sub, err)
	}
	t.Cleanup(func() { syscall.Unmount(sub, syscall.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(sub, "inner"), []byte("inner\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(t *testing.T, b *testbundle.Bundle, s *specs.Spec)
		script string
		check  func(t *testing.T, r testbundle.Result)
	}{
		{
			name: "tmpfs with options",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/t", Type: "tmpfs", Source: "tmpfs",
					Options: []string{"nosuid", "nodev", "noexec", "size=1m", "mode=700"}})
			},
			script: "cat /proc/self/mountinfo; stat -c 'mode=%a' /mnt/t",
			check: func(t *testing.T, r testbundle.Result) {
				l := mountLine(t, r.Stdout, "/mnt/t")
				for _, w := range []string{"nosuid", "nodev", "noexec", "- tmpfs ", "size=1024k", "mode=700"} {
					if !strings.Contains(l, w) {
						t.Errorf("mountinfo line lacks %q: %s", w, l)
					}
				}
				if !strings.Contains(r.Stdout, "mode=700\n") {
					t.Errorf("stat of /mnt/t: %s", r.Stdout)
				}
			},
		},
		{
			name: "bind ro cannot be written",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, "f"), []byte("host\n"), 0o644)
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: dir,
					Options: []string{"bind", "ro"}})
			},
			script: "cat /mnt/ro/f; touch /mnt/ro/new && echo WROTE; echo x >> /mnt/ro/f && echo APPENDED; true",
			check: func(t *testing.T, r testbundle.Result) {
				if !strings.HasPrefix(r.Stdout, "host\n") || strings.Contains(r.Stdout, "WROTE") || strings.Contains(r.Stdout, "APPENDED") {
					t.Errorf("stdout = %q: want the file readable and not writable", r.Stdout)
				}
				assertMentions(t, r.Stderr, "Read-only file system")
			},
		},
		{
			name: "bind rw is writable and visible on host",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				dir := t.TempDir()
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: dir,
					Options: []string{"rbind", "rw"}})
				t.Cleanup(func() {
					if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "written\n" {
						t.Errorf("host side of bind mount: %q, %v", b, err)
					}
				})
			},
			script: "echo written > /mnt/rw/out",
			check:  func(t *testing.T, r testbundle.Result) {},
		},
		{
			name: "bind does not carry submounts",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/b", Type: "bind", Source: hostDirWithSubmount(t),
					Options: []string{"bind"}})
			},
			script: "cat /mnt/b/top; ls /mnt/b/sub | wc -l",
			check: func(t *testing.T, r testbundle.Result) {
				if r.Stdout != "top\n0\n" {
					t.Errorf("stdout = %q, want top file and an empty sub", r.Stdout)
				}
			},
		},
		{
			name: "rbind carries submounts",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/rb", Type: "bind", Source: hostDirWithSubmount(t),
					Options: []string{"rbind"}})
			},
			script: "cat /mnt/rb/top /mnt/rb/sub/inner",
			check: func(t *testing.T, r testbundle.Result) {
				if r.Stdout != "top\ninner\n" {
					t.Errorf("stdout = %q", r.Stdout)
				}
			},
		},
		{
			name: "propagation rshared",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/sh", Type: "bind", Source: t.TempDir(),
					Options: []string{"rbind", "rshared"}})
			},
			script: "cat /proc/self/mountinfo",
			check: func(t *testing.T, r testbundle.Result) {
				if l := mountLine(t, r.Stdout, "/mnt/sh"); !strings.Contains(l, " shared:") {
					t.Errorf("/mnt/sh not shared: %s", l)
				}
			},
		},
		{
			name: "propagation rprivate",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/pr", Type: "bind", Source: t.TempDir(),
					Options: []string{"rbind", "rprivate"}})
			},
			script: "cat /proc/self/mountinfo",
			check: func(t *testing.T, r testbundle.Result) {
				if l := mountLine(t, r.Stdout, "/mnt/pr"); strings.Contains(l, " shared:") || strings.Contains(l, " master:") {
					t.Errorf("/mnt/pr not private: %s", l)
				}
			},
		},
		{
			name: "maskedPaths",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				os.MkdirAll(filepath.Join(b.Rootfs, "secret-dir"), 0o755)
				os.WriteFile(filepath.Join(b.Rootfs, "secret-dir", "key"), []byte("k"), 0o644)
				os.WriteFile(filepath.Join(b.Rootfs, "secret-file"), []byte("s"), 0o644)
				s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/secret-dir", "/secret-file")
			},
			script: "echo kcore=$(head -c 16 /proc/kcore | wc -c); echo dir=$(ls -A /secret-dir | wc -l); echo file=$(cat /secret-file | wc -c)",
			check: func(t *testing.T, r testbundle.Result) {
				if r.Stdout != "kcore=0\ndir=0\nfile=0\n" {
					t.Errorf("stdout = %q, want everything masked", r.Stdout)
				}
			},
		},
		{
			name: "readonlyPaths",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) {
				os.MkdirAll(filepath.Join(b.Rootfs, "ro-dir"), 0o755)
				s.Root.Readonly = false
				s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/ro-dir")
			},
			script: "touch /ro-dir/x && echo WROTE; echo other > /proc/sys/kernel/hostname && echo SYSWROTE; touch /tmp/ok && echo rootrw",
			check: func(t *testing.T, r testbundle.Result) {
				if r.Stdout != "rootrw\n" {
					t.Errorf("stdout = %q, want only the rw root writable", r.Stdout)
				}
				if n := strings.Count(r.Stderr, "Read-only file system"); n != 2 {
					t.Errorf("want 2 EROFS errors, got %d:\n%s", n, r.Stderr)
				}
			},
		},
		{
			name:   "readonly root",
			mutate: func(t *testing.T, b *testbundle.Bundle, s *specs.Spec) { s.Root.Readonly = true },
			script: "touch /new && echo WROTE; touch /tmp/new && echo WROTE2; true",
			check: func(t *testing.T, r testbundle.Result) {
				if r.Stdout != "" {
					t.Errorf("stdout = %q, want no write to succeed", r.Stdout)
				}
				if n := strings.Count(r.Stderr, "Read-only file system"); n != 2 {
					t.Errorf("want 2 EROFS errors, got %d:\n%s", n, r.Stderr)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t)
			b.Mutate(func(s *specs.Spec) {
				tc.mutate(t, b, s)
				s.Process.Args = sh(tc.script)
			})
			r := b.Run()
			mustExit(t, r, 0, "run")
			tc.check(t, r)
		})
	}
}
