package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestUserNamespace: in a user namespace mknod is refused (devices are bind-mounted from
// the host), sysfs cannot be mounted without a network namespace (the host's is bound
// instead) and the flags of mounts inherited from the parent namespace are locked.
func TestUserNamespace(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("kernel without user namespaces")
	}
	rootfs := makeRootfs(t)
	spec := baseSpec()
	// A read-only bind of the host's /dev/shm: its mount is locked in the user namespace.
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/hostshm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "ro", "nosuid"}})
	rep := runInChild(t, childConfig{
		Spec: spec, Rootfs: rootfs,
		Stat:  []string{"/dev/null", "/dev/tty"},
		Write: []string{"/hostshm/x", "/tmp/ok", "/newfile"},
	}, unix.CLONE_NEWUSER)
	if rep.SetupErr != "" || rep.FinalizeErr != "" {
		t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
	}
	if s := rep.Stat["/dev/null"]; s.Type != "char" || s.Major != 1 || s.Minor != 3 {
		t.Errorf("/dev/null: %+v", s)
	}
	if m := findMount(rep.Mounts, "/dev/null"); m == nil || m.FSType != "devtmpfs" {
		t.Errorf("/dev/null is not a bind of the host device: %+v", m)
	}
	if m := findMount(rep.Mounts, "/sys"); m == nil || m.FSType != "sysfs" || !hasOpt(m.Options, "ro") {
		t.Errorf("/sys: %+v", m)
	}
	if m := findMount(rep.Mounts, "/hostshm"); m == nil || !hasOpt(m.Options, "ro") || !hasOpt(m.Options, "nosuid") {
		t.Errorf("/hostshm: %+v", m)
	}
	for p, wantErr := range map[string]string{"/hostshm/x": "read-only", "/tmp/ok": "", "/newfile": "read-only"} {
		if got := rep.Write[p]; wantErr == "" && got != "" || wantErr != "" && !strings.Contains(got, wantErr) {
			t.Errorf("write %s: %q, want %q", p, got, wantErr)
		}
	}
}

// TestCgroupNamespace: in a cgroup namespace, "cgroup" mounts show the container's own
// cgroup directories (read-only by default, rw on request).
func TestCgroupNamespace(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("kernel without cgroup namespaces")
	}
	var cms []CgroupMount
	if !cgroupV2(&Config{}) {
		for _, d := range []string{"memory", "pids", "systemd", "unified"} {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", d)); err == nil {
				cms = append(cms, CgroupMount{Source: filepath.Join("/sys/fs/cgroup", d), Dest: d})
			}
		}
	}
	for _, rw := range []bool{false, true} {
		t.Run(map[bool]string{false: "ro", true: "rw"}[rw], func(t *testing.T) {
			spec := baseSpec()
			opts := []string{"nosuid", "noexec", "nodev"}
			if rw {
				opts = append(opts, "rw")
			}
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: opts})
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t), CgroupMounts: cms}, unix.CLONE_NEWCGROUP)
			if rep.SetupErr != "" || rep.FinalizeErr != "" {
				t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
			}
			mode := map[bool]string{false: "ro", true: "rw"}[rw]
			if len(cms) == 0 {
				if m := findMount(rep.Mounts, "/sys/fs/cgroup"); m == nil || m.FSType != "cgroup2" || !hasOpt(m.Options, mode) {
					t.Errorf("/sys/fs/cgroup: %+v", m)
				}
				return
			}
			for _, cm := range cms {
				want := "cgroup"
				if cm.Dest == "unified" {
					want = "cgroup2"
				}
				m := findMount(rep.Mounts, "/sys/fs/cgroup/"+cm.Dest)
				if m == nil || m.FSType != want || !hasOpt(m.Options, mode) {
					t.Errorf("/sys/fs/cgroup/%s: %+v, want %s %s", cm.Dest, m, want, mode)
				}
			}
		})
	}
}

// TestRootfsPropagation: linux.rootfsPropagation ends up on the container's "/".
func TestRootfsPropagation(t *testing.T) {
	needRoot(t)
	for prop, want := range map[string]string{"rshared": "shared:", "rslave": "", "rprivate": "", "runbindable": "unbindable"} {
		t.Run(prop, func(t *testing.T) {
			spec := baseSpec()
			spec.Linux.RootfsPropagation = prop
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t)}, 0)
			if rep.SetupErr != "" || rep.FinalizeErr != "" {
				t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
			}
			m := findMount(rep.Mounts, "/")
			if m == nil {
				t.Fatal("no / mount")
			}
			if want == "" && strings.Contains(m.Optional, "shared:") || want != "" && !strings.Contains(m.Optional, want) {
				t.Errorf("/ optional fields %q, want %q", m.Optional, want)
			}
		})
	}
}

// TestMountErrors: unsupported or impossible mounts fail with the mount named.
func TestMountErrors(t *testing.T) {
	needRoot(t)
	for name, tc := range map[string]struct {
		m    specs.Mount
		want string
	}{
		"idmap":          {specs.Mount{Destination: "/x", Type: "bind", Source: "/tmp", Options: []string{"bind", "idmap"}}, "not supported yet"},
		"missing source": {specs.Mount{Destination: "/x", Type: "bind", Source: "/does/not/exist", Options: []string{"bind"}}, "no such file"},
		"bad fs":         {specs.Mount{Destination: "/x", Type: "nosuchfs", Source: "x"}, "no such device"},
	} {
		t.Run(name, func(t *testing.T) {
			spec := baseSpec()
			spec.Mounts = append(spec.Mounts, tc.m)
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t)}, 0)
			prefix := "mount " + tc.m.Source + " (" + tc.m.Type + ") on /x: "
			if !strings.HasPrefix(rep.SetupErr, prefix) || !strings.Contains(rep.SetupErr, tc.want) {
				t.Errorf("setup error %q, want %q...%q", rep.SetupErr, prefix, tc.want)
			}
		})
	}
}

// TestLockedFlags: a bind mount of a source whose nosuid/nodev/noexec are locked (inherited
// into a user namespace) keeps them when only "ro" is asked for, and fails when the
// options explicitly clear one of them.
func TestLockedFlags(t *testing.T) {
	needRoot(t)
	for name, tc := range map[string]struct {
		opts    []string
		wantErr string
	}{
		"keep locked": {[]string{"bind", "ro"}, ""},
		"clear nodev": {[]string{"bind", "ro", "dev"}, "operation not permitted"},
	} {
		t.Run(name, func(t *testing.T) {
			locked := filepath.Join(t.TempDir(), "locked")
			mkdir(t, locked, 0o755)
			spec := baseSpec()
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/locked", Type: "bind", Source: locked, Options: tc.opts})
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t), LockedTmpfs: locked}, 0)
			if tc.wantErr != "" {
				if !strings.Contains(rep.SetupErr, "on /locked") || !strings.Contains(rep.SetupErr, tc.wantErr) {
					t.Errorf("setup error %q, want %q", rep.SetupErr, tc.wantErr)
				}
				return
			}
			if rep.SetupErr != "" || rep.FinalizeErr != "" {
				t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
			}
			m := findMount(rep.Mounts, "/locked")
			if m == nil {
				t.Fatal("no /locked mount")
			}
			for _, o := range []string{"ro", "nosuid", "nodev", "noexec"} {
				if !hasOpt(m.Options, o) {
					t.Errorf("/locked options %q lack %q", m.Options, o)
				}
			}
		})
	}
}

// TestReadonlyDev: a read-only /dev tmpfs is populated first and made read-only by
// Finalize.
func TestReadonlyDev(t *testing.T) {
	needRoot(t)
	spec := baseSpec()
	for i, m := range spec.Mounts {
		if m.Destination == "/dev" {
			spec.Mounts[i].Options = append(m.Options, "ro")
		}
	}
	rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t), Stat: []string{"/dev/null"}, Write: []string{"/dev/x", "/dev/shm/x"}}, 0)
	if rep.SetupErr != "" || rep.FinalizeErr != "" {
		t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
	}
	if s := rep.Stat["/dev/null"]; s.Type != "char" {
		t.Errorf("/dev/null: %+v", s)
	}
	if m := findMount(rep.Mounts, "/dev"); m == nil || !hasOpt(m.Options, "ro") || !hasOpt(m.Options, "nosuid") {
		t.Errorf("/dev: %+v", m)
	}
	if got := rep.Write["/dev/x"]; !strings.Contains(got, "read-only") {
		t.Errorf("write /dev/x: %q", got)
	}
	if got := rep.Write["/dev/shm/x"]; got != "" {
		t.Errorf("write /dev/shm/x: %q", got)
	}
}
