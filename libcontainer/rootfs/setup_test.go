package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// commonFixture is the spec of TestSetupCommon plus what the child should probe.
func commonFixture(t *testing.T) childConfig {
	rootfs := makeRootfs(t)
	host := t.TempDir()
	data := filepath.Join(host, "data")
	writeFile(t, filepath.Join(data, "marker"), "from host", 0o644)
	mkdir(t, filepath.Join(data, "sub"), 0o755)
	writeFile(t, filepath.Join(host, "hostfile"), "host file", 0o644)
	writeFile(t, filepath.Join(rootfs, "copyup/a/b"), "copied", 0o640)
	if err := os.Symlink("a/b", filepath.Join(rootfs, "copyup/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(rootfs, "copyup/a"), 0o711); err != nil {
		t.Fatal(err)
	}

	spec := baseSpec()
	fileMode := os.FileMode(0o600)
	uid, gid := uint32(1000), uint32(1001)
	spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/mydev", Type: "c", Major: 1, Minor: 7, FileMode: &fileMode, UID: &uid, GID: &gid},
		{Path: "/dev/sub/myfifo", Type: "p"},
	}
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/data", Type: "none", Source: data, Options: []string{"rbind", "ro", "nosuid"}},
		specs.Mount{Destination: "/rrodata", Type: "bind", Source: data, Options: []string{"rbind", "rro"}},
		specs.Mount{Destination: "/etc/hostfile", Type: "bind", Source: "../hostfile", Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/copyup", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nodev"}},
		specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime"}},
	)
	return childConfig{
		Spec:   spec,
		Rootfs: rootfs,
		// Relative bind sources are relative to the bundle.
		Bundle:    filepath.Join(host, "bundle"),
		PreMounts: []string{filepath.Join(data, "sub")},
		CgroupMounts: []CgroupMount{
			{Source: "/sys/fs/cgroup/memory", Dest: "memory"},
			{Source: "/sys/fs/cgroup/cpu", Dest: "cpu", Symlinks: []string{"cpu-alias"}},
		},
		Console: true,
		Stat: []string{
			"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
			"/dev/mydev", "/dev/sub/myfifo", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr",
			"/dev/ptmx", "/dev/core", "/dev/console", "/copyup/a", "/copyup/a/b", "/copyup/link",
			"/sys/fs/cgroup/cpu-alias", "/dev/pts", "/dev/shm", "/",
		},
		Write: []string{"/newfile", "/tmp/ok", "/data/x", "/dev/shm/ok", "/proc/sys/kernel/hostname", "/rrodata/sub/x", "/copyup/new", "/sys/fs/cgroup/x"},
		Read:  []string{"/data/marker", "/etc/hostfile", "/etc/secret", "/secretdir", "/proc/keys", "/proc/acpi", "/copyup/a/b", "/sys/firmware"},
		Exec:  [][]string{{"/bin/cat", "/etc/hostfile"}, {"/bin/sh", "-c", "echo $((6*7))"}},
	}
}

func TestSetupCommon(t *testing.T) {
	needRoot(t)
	for _, noPivot := range []bool{false, true} {
		name := "pivot_root"
		if noPivot {
			name = "no-pivot"
		}
		t.Run(name, func(t *testing.T) {
			cc := commonFixture(t)
			cc.NoPivot = noPivot
			rep := runInChild(t, cc, 0)
			checkCommon(t, cc, rep)
		})
	}
}

func checkCommon(t *testing.T, cc childConfig, rep *childReport) {
	t.Helper()
	if rep.SetupErr != "" || rep.FinalizeErr != "" || rep.ConsoleErr != "" {
		t.Fatalf("setup=%q finalize=%q console=%q", rep.SetupErr, rep.FinalizeErr, rep.ConsoleErr)
	}
	// Mounts, as the container sees them.
	for _, tc := range []struct {
		mp, fstype string
		opts       []string
	}{
		{"/", "", []string{"ro"}},
		{"/proc", "proc", []string{"rw", "nosuid", "nodev", "noexec"}},
		{"/dev", "tmpfs", []string{"rw", "nosuid"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "nodev", "noexec"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "nodev", "noexec"}},
		{"/sys", "sysfs", []string{"ro", "nosuid", "nodev", "noexec"}},
		{"/tmp", "tmpfs", []string{"rw", "nosuid", "nodev"}},
		{"/data", "", []string{"ro", "nosuid"}},
		{"/data/sub", "tmpfs", []string{"rw"}}, // plain ro is not recursive
		{"/rrodata", "", []string{"ro"}},
		{"/rrodata/sub", "tmpfs", []string{"ro"}}, // rro is
		{"/etc/hostfile", "", []string{"ro"}},
		{"/copyup", "tmpfs", []string{"rw", "nodev"}},
		{"/sys/fs/cgroup", "tmpfs", []string{"ro", "nosuid", "nodev", "noexec"}},
		{"/sys/fs/cgroup/memory", "cgroup", []string{"ro", "nosuid"}},
		{"/sys/fs/cgroup/cpu", "cgroup", []string{"ro"}},
		{"/proc/sys", "proc", []string{"ro", "nosuid", "nodev", "noexec"}},
		// Masked files show the container's /dev/null, which lives on the /dev tmpfs.
		{"/proc/keys", "tmpfs", nil},
		{"/proc/acpi", "tmpfs", []string{"ro"}},
		{"/sys/firmware", "tmpfs", []string{"ro"}},
		{"/secretdir", "tmpfs", []string{"ro"}},
		{"/etc/secret", "tmpfs", nil},
		{"/dev/console", "devpts", nil},
	} {
		m := findMount(rep.Mounts, tc.mp)
		if m == nil {
			t.Errorf("no mount at %s", tc.mp)
			continue
		}
		if tc.fstype != "" && m.FSType != tc.fstype {
			t.Errorf("%s: fstype %s, want %s", tc.mp, m.FSType, tc.fstype)
		}
		for _, o := range tc.opts {
			if !hasOpt(m.Options, o) {
				t.Errorf("%s: options %q lack %q", tc.mp, m.Options, o)
			}
		}
	}
	// Nothing of the host may remain visible.
	for _, m := range rep.Mounts {
		if strings.HasPrefix(m.Mountpoint, cc.Rootfs) {
			t.Errorf("host path %s still mounted in the container", m.Mountpoint)
		}
	}

	dev := func(p string, typ string, perm, maj, min, uid, gid uint32) {
		t.Helper()
		s := rep.Stat[p]
		if s.Err != "" || s.Type != typ || s.Perm != perm || s.Major != maj || s.Minor != min || s.UID != uid || s.GID != gid {
			t.Errorf("%s: got %+v, want %s %o %d:%d %d/%d", p, s, typ, perm, maj, min, uid, gid)
		}
	}
	dev("/dev/null", "char", 0o666, 1, 3, 0, 0)
	dev("/dev/zero", "char", 0o666, 1, 5, 0, 0)
	dev("/dev/full", "char", 0o666, 1, 7, 0, 0)
	dev("/dev/random", "char", 0o666, 1, 8, 0, 0)
	dev("/dev/urandom", "char", 0o666, 1, 9, 0, 0)
	dev("/dev/tty", "char", 0o666, 5, 0, 0, 0)
	dev("/dev/mydev", "char", 0o600, 1, 7, 1000, 1001)
	dev("/dev/sub/myfifo", "fifo", 0o666, 0, 0, 0, 0)
	for p, target := range map[string]string{
		"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
		"/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx", "/sys/fs/cgroup/cpu-alias": "cpu",
	} {
		if s := rep.Stat[p]; s.Type != "link" || s.Link != target {
			t.Errorf("%s: got %+v, want link to %s", p, s, target)
		}
	}
	// /dev/core only exists where the kernel has /proc/kcore.
	if _, err := os.Stat("/proc/kcore"); err == nil {
		if s := rep.Stat["/dev/core"]; s.Type != "link" || s.Link != "/proc/kcore" {
			t.Errorf("/dev/core: got %+v, want link to /proc/kcore", s)
		}
	} else if s := rep.Stat["/dev/core"]; s.Err == "" {
		t.Errorf("/dev/core exists (%+v) but the host has no /proc/kcore", s)
	}
	if s := rep.Stat["/dev/console"]; s.Type != "char" || s.Major != 136 {
		t.Errorf("/dev/console: got %+v, want a pts char device", s)
	}
	if s := rep.Stat["/dev/shm"]; s.Perm != 0o1777 {
		t.Errorf("/dev/shm mode %o, want 1777", s.Perm)
	}
	// tmpcopyup kept content, modes and links.
	if s := rep.Stat["/copyup/a"]; s.Type != "dir" || s.Perm != 0o711 {
		t.Errorf("/copyup/a: %+v", s)
	}
	if s := rep.Stat["/copyup/a/b"]; s.Type != "file" || s.Perm != 0o640 {
		t.Errorf("/copyup/a/b: %+v", s)
	}
	if s := rep.Stat["/copyup/link"]; s.Type != "link" || s.Link != "a/b" {
		t.Errorf("/copyup/link: %+v", s)
	}

	for p, wantErr := range map[string]string{
		"/newfile":                  "read-only file system",
		"/tmp/ok":                   "",
		"/data/x":                   "read-only file system",
		"/dev/shm/ok":               "",
		"/proc/sys/kernel/hostname": "read-only file system",
		"/rrodata/sub/x":            "read-only file system",
		"/copyup/new":               "",
		"/sys/fs/cgroup/x":          "read-only file system",
	} {
		got := rep.Write[p]
		if wantErr == "" && got != "" || wantErr != "" && !strings.Contains(got, wantErr) {
			t.Errorf("write %s: got %q, want error %q", p, got, wantErr)
		}
	}
	for p, want := range map[string]string{
		"/data/marker":  "from host",
		"/etc/hostfile": "host file",
		"/etc/secret":   "",
		"/secretdir":    "dir:",
		"/proc/keys":    "",
		"/proc/acpi":    "dir:",
		"/copyup/a/b":   "copied",
		"/sys/firmware": "dir:",
	} {
		if got := rep.Read[p]; got != want {
			t.Errorf("read %s: got %q, want %q", p, got, want)
		}
	}
	for cmd, want := range map[string]string{
		"/bin/cat /etc/hostfile":   "host file",
		"/bin/sh -c echo $((6*7))": "42\n",
	} {
		if got := rep.Exec[cmd]; got != want {
			t.Errorf("exec %s: got %q, want %q", cmd, got, want)
		}
	}
}
