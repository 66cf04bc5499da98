package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func dropMount(s *specs.Spec, dest string) {
	var keep []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination != dest {
			keep = append(keep, m)
		}
	}
	s.Mounts = keep
}

func dirEntries(t *testing.T, p string) []string {
	t.Helper()
	ents, err := os.ReadDir(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSymlinkedDestinations: mount destinations that are symlinks pointing at the host (an
// absolute path, a ../ escape, "/") must land inside the rootfs (CVE-2021-30465 class),
// and no directory may be created on the host (CVE-2024-45310 class).
func TestSymlinkedDestinations(t *testing.T) {
	needRoot(t)
	rootfs := makeRootfs(t)
	host := t.TempDir()
	absTarget := filepath.Join(host, "abs-target")
	mkdir(t, absTarget, 0o755)
	relTarget := filepath.Join(host, "rel-target")
	mkdir(t, relTarget, 0o755)
	src := filepath.Join(host, "src")
	writeFile(t, filepath.Join(src, "marker"), "m", 0o644)

	// The symlink targets also exist inside the rootfs, where they must resolve. (A
	// dangling one is TestDanglingSymlinkDestination.)
	mkdir(t, filepath.Join(rootfs, absTarget), 0o755)
	mkdir(t, filepath.Join(rootfs, relTarget), 0o755)
	if err := os.Symlink(absTarget, filepath.Join(rootfs, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 20)+strings.TrimPrefix(relTarget, "/"), filepath.Join(rootfs, "rel")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(rootfs, "slash")); err != nil {
		t.Fatal(err)
	}
	spec := baseSpec()
	spec.Root.Readonly = false
	// The targets live under the host's /tmp: a /tmp tmpfs would hide their in-rootfs twins.
	dropMount(spec, "/tmp")
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/abs", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/rel/made/by/mkdir", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/slash/etc", Type: "bind", Source: src, Options: []string{"bind"}},
	)
	rep := runInChild(t, childConfig{Spec: spec, Rootfs: rootfs, Read: []string{"/etc/marker"}}, 0)
	if rep.SetupErr != "" || rep.FinalizeErr != "" {
		t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
	}
	for _, want := range []string{
		filepath.Join(rootfs, absTarget),
		filepath.Join(rootfs, relTarget, "made/by/mkdir"),
		filepath.Join(rootfs, "etc"),
	} {
		if findMount(rep.PrePivot, want) == nil {
			t.Errorf("no mount at %s inside the rootfs", want)
		}
	}
	for _, bad := range []string{absTarget, filepath.Join(relTarget, "made/by/mkdir"), "/etc"} {
		// None of these host paths is a mount point on the host.
		if m := findMount(rep.PrePivot, bad); m != nil {
			t.Errorf("mount escaped to the host path %s: %+v", bad, m)
		}
	}
	if got := dirEntries(t, absTarget); len(got) != 0 {
		t.Errorf("host %s touched: %v", absTarget, got)
	}
	if got := dirEntries(t, relTarget); len(got) != 0 {
		t.Errorf("host %s touched: %v", relTarget, got)
	}
	if got := rep.Read["/etc/marker"]; got != "m" {
		t.Errorf("bind through the / symlink not visible at /etc: %q", got)
	}
}

// TestDevSymlink: an image whose /dev is a symlink to a host directory must get its
// devices created inside the rootfs, never on the host.
func TestDevSymlink(t *testing.T) {
	needRoot(t)
	rootfs := makeRootfs(t)
	hostDev := filepath.Join(t.TempDir(), "hostdev")
	mkdir(t, hostDev, 0o755)
	if err := os.Remove(filepath.Join(rootfs, "dev")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostDev, filepath.Join(rootfs, "dev")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(rootfs, hostDev), 0o755)
	spec := baseSpec()
	spec.Root.Readonly = false
	// Keep /dev as the image has it; the devpts/shm/mqueue mounts go through it too.
	dropMount(spec, "/dev")
	dropMount(spec, "/tmp")
	spec.Linux.MaskedPaths = nil
	rep := runInChild(t, childConfig{Spec: spec, Rootfs: rootfs, Stat: []string{"/dev/null", "/dev/ptmx", hostDev + "/null"}}, 0)
	if rep.SetupErr != "" || rep.FinalizeErr != "" {
		t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
	}
	if got := dirEntries(t, hostDev); len(got) != 0 {
		t.Errorf("host directory %s got entries %v", hostDev, got)
	}
	for _, m := range rep.PrePivot {
		if strings.HasPrefix(m.Mountpoint, hostDev) {
			t.Errorf("mount on the host path %s", m.Mountpoint)
		}
	}
	if s := rep.Stat["/dev/null"]; s.Type != "char" || s.Major != 1 || s.Minor != 3 {
		t.Errorf("/dev/null in the container: %+v", s)
	}
	if s := rep.Stat[hostDev+"/null"]; s.Type != "char" {
		t.Errorf("devices were not created under the in-rootfs %s: %+v", hostDev, s)
	}
}

// TestDanglingSymlinkDestination: a destination symlink whose target exists only on the
// host must fail (securejoin does not create through dangling symlinks) or land inside the
// rootfs; either way the host directory is untouched.
func TestDanglingSymlinkDestination(t *testing.T) {
	needRoot(t)
	for _, dest := range []string{"/dangling", "/dev"} {
		t.Run(strings.TrimPrefix(dest, "/"), func(t *testing.T) {
			rootfs := makeRootfs(t)
			hostDir := filepath.Join(t.TempDir(), "hostdir")
			mkdir(t, hostDir, 0o755)
			link := filepath.Join(rootfs, dest)
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(hostDir, link); err != nil {
				t.Fatal(err)
			}
			spec := baseSpec()
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/dangling/sub", Type: "tmpfs", Source: "tmpfs"})
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: rootfs}, 0)
			if rep.SetupErr == "" {
				for _, m := range rep.PrePivot {
					if strings.HasPrefix(m.Mountpoint, hostDir) {
						t.Errorf("mount on the host path %s", m.Mountpoint)
					}
				}
			} else if !strings.Contains(rep.SetupErr, "mount ") {
				t.Errorf("setup error %q does not name the mount", rep.SetupErr)
			}
			if got := dirEntries(t, hostDir); len(got) != 0 {
				t.Errorf("host directory %s got entries %v", hostDir, got)
			}
		})
	}
}

// TestMaskRefusesFakeDevNull: when /dev/null is swapped for something else before the
// masks are applied, masking must refuse instead of exposing that thing (CVE-2025-31133).
func TestMaskRefusesFakeDevNull(t *testing.T) {
	needRoot(t)
	for _, kind := range []string{"devnull-symlink", "devnull-regular"} {
		t.Run(kind, func(t *testing.T) {
			spec := baseSpec()
			spec.Linux.MaskedPaths = []string{"/proc/keys"}
			spec.Linux.ReadonlyPaths = nil
			rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t), Sabotage: kind}, 0)
			if rep.SetupErr != "" {
				t.Fatalf("setup: %s", rep.SetupErr)
			}
			if !strings.Contains(rep.FinalizeErr, "/dev/null is not the null device") {
				t.Errorf("finalize error %q, want a refusal of the fake /dev/null", rep.FinalizeErr)
			}
		})
	}
}

// TestProcSysDestinationSymlink: procfs and sysfs are never mounted through a symlink.
func TestProcSysDestinationSymlink(t *testing.T) {
	needRoot(t)
	for _, dir := range []string{"proc", "sys"} {
		t.Run(dir, func(t *testing.T) {
			rootfs := makeRootfs(t)
			if err := os.Remove(filepath.Join(rootfs, dir)); err != nil {
				t.Fatal(err)
			}
			mkdir(t, filepath.Join(rootfs, "fake"), 0o755)
			if err := os.Symlink("/fake", filepath.Join(rootfs, dir)); err != nil {
				t.Fatal(err)
			}
			rep := runInChild(t, childConfig{Spec: baseSpec(), Rootfs: rootfs}, 0)
			if !strings.Contains(rep.SetupErr, "symlink") || !strings.Contains(rep.SetupErr, "on /"+dir) {
				t.Errorf("setup error %q, want a refusal naming the mount", rep.SetupErr)
			}
		})
	}
}

// TestProcSubmountRefused: arbitrary mounts inside /proc could fake kernel interfaces.
func TestProcSubmountRefused(t *testing.T) {
	needRoot(t)
	spec := baseSpec()
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/proc/sys/kernel", Type: "tmpfs", Source: "tmpfs"})
	rep := runInChild(t, childConfig{Spec: spec, Rootfs: makeRootfs(t)}, 0)
	if !strings.Contains(rep.SetupErr, "inside /proc") {
		t.Errorf("setup error %q, want refusal of a mount inside /proc", rep.SetupErr)
	}
}

// TestConsoleSymlinkRefused: /dev/console must not be a symlink (the bind would follow it).
func TestConsoleSymlinkRefused(t *testing.T) {
	needRoot(t)
	rootfs := makeRootfs(t)
	// /dev is not a tmpfs here, so the image's symlink survives until MountConsole.
	if err := os.Symlink("/etc/secret", filepath.Join(rootfs, "dev/console")); err != nil {
		t.Fatal(err)
	}
	spec := baseSpec()
	dropMount(spec, "/dev")
	spec.Linux.MaskedPaths = nil
	spec.Root.Readonly = false
	rep := runInChild(t, childConfig{Spec: spec, Rootfs: rootfs, Console: true, Read: []string{"/etc/secret"}}, 0)
	if rep.SetupErr != "" || rep.FinalizeErr != "" {
		t.Fatalf("setup=%q finalize=%q", rep.SetupErr, rep.FinalizeErr)
	}
	if !strings.Contains(rep.ConsoleErr, "not a regular file or a character device") {
		t.Errorf("console error %q, want refusal of the symlink", rep.ConsoleErr)
	}
	if m := findMount(rep.Mounts, "/etc/secret"); m != nil {
		t.Errorf("the pty was mounted through the symlink: %+v", m)
	}
}
