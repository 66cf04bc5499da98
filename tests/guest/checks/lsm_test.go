package checks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}

func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

const testProfile = "runo-guest-test"

// The profile allows everything except writes to /dev/shm/forbidden*, so a
// denial proves the process runs confined by it and not merely labelled.
const testProfileText = `abi <abi/3.0>,
profile ` + testProfile + ` flags=(attach_disconnected,mediate_deleted) {
  file, network, capability, signal, ptrace, unix, umount, mount, pivot_root,
  deny /dev/shm/forbidden* w,
}
`

// loadProfile loads testProfileText with apparmor_parser and unloads it at the end.
func loadProfile(t *testing.T) {
	t.Helper()
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Skip("apparmor_parser not installed (the guest gets it from Debian's apparmor package)")
	}
	f := filepath.Join(t.TempDir(), testProfile)
	if err := os.WriteFile(f, []byte(testProfileText), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(parser, "-r", f).CombinedOutput(); err != nil {
		t.Fatalf("apparmor_parser -r: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(parser, "-R", f).CombinedOutput(); err != nil {
			t.Errorf("apparmor_parser -R: %v\n%s", err, out)
		}
	})
}

// TestAppArmorProfileConfines: process.apparmorProfile becomes the process's
// confinement: /proc/self/attr/current names it and its rules apply.
func TestAppArmorProfileConfines(t *testing.T) {
	requireRuno(t)
	if os.Geteuid() != 0 || !apparmorEnabled() {
		t.Skip("AppArmor is not enabled here (needs root and a kernel booted with AppArmor: make test-lsm)")
	}
	loadProfile(t)
	for _, tc := range []struct {
		name, profile, want string
		confined            bool
	}{
		{"profile", testProfile, testProfile + " (enforce)", true},
		{"no profile", "", "unconfined", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testbundle.New(t, testbundle.WithArgs("sh", "-c",
				`cat /proc/self/attr/current; echo; touch /dev/shm/allowed && echo allowed-ok; touch /dev/shm/forbidden 2>/dev/null && echo forbidden-ok || echo forbidden-denied`))
			b.Mutate(func(s *specs.Spec) { s.Process.ApparmorProfile = tc.profile })
			out := mustOK(t, "run", b.Run())
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := strings.TrimRight(lines[0], "\x00"); got != tc.want {
				t.Errorf("/proc/self/attr/current = %q, want %q", got, tc.want)
			}
			if !strings.Contains(out, "allowed-ok") {
				t.Errorf("write allowed by the profile failed:\n%s", out)
			}
			if got := strings.Contains(out, "forbidden-denied"); got != tc.confined {
				t.Errorf("write to /dev/shm/forbidden denied=%v, want %v:\n%s", got, tc.confined, out)
			}
		})
	}
}

// TestAppArmorUnavailableFailsClearly: on a host without AppArmor a profile
// cannot be honoured, and the container must not start unconfined.
func TestAppArmorUnavailableFailsClearly(t *testing.T) {
	requireRuno(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containers")
	}
	if apparmorEnabled() {
		t.Skip("AppArmor is enabled here; this checks a host without it")
	}
	b := testbundle.New(t, testbundle.WithArgs("sh", "-c", "echo started"))
	b.Mutate(func(s *specs.Spec) { s.Process.ApparmorProfile = testProfile })
	r := b.Run()
	if r.ExitCode == 0 || strings.Contains(r.Stdout, "started") {
		t.Fatalf("run with apparmorProfile on a host without AppArmor: exit %d, stdout %q; want a failure before the process starts", r.ExitCode, r.Stdout)
	}
	if !strings.Contains(strings.ToLower(r.Stderr), "apparmor") {
		t.Errorf("error does not mention AppArmor: %q", r.Stderr)
	}
}

// TestSELinuxLabel: process.selinuxLabel becomes the process's context.
func TestSELinuxLabel(t *testing.T) {
	requireRuno(t)
	if os.Geteuid() != 0 || !selinuxEnabled() {
		t.Skip("SELinux is not enabled here (needs root and a kernel booted with SELinux and a policy: make test-lsm)")
	}
	const label = "system_u:system_r:container_t:s0:c1,c2"
	b := testbundle.New(t, testbundle.WithArgs("cat", "/proc/self/attr/current"))
	b.Mutate(func(s *specs.Spec) { s.Process.SelinuxLabel = label })
	out := mustOK(t, "run", b.Run())
	if got := strings.TrimRight(strings.TrimSpace(out), "\x00"); got != label {
		t.Errorf("/proc/self/attr/current = %q, want %q", got, label)
	}
}

// TestSELinuxMountLabel: linux.mountLabel becomes the context= of the mounts that take one
// (tmpfs, devpts). (mqueue takes no context=; runo labels its root where the policy allows
// xattrs on it, which the guest's minimal policy does not.)
func TestSELinuxMountLabel(t *testing.T) {
	requireRuno(t)
	if os.Geteuid() != 0 || !selinuxEnabled() {
		t.Skip("SELinux is not enabled here (needs root and a kernel booted with SELinux and a policy: make test-lsm)")
	}
	const mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	b := testbundle.New(t, testbundle.WithArgs("sh", "-c", "grep -E ' /(tmp|dev/pts|dev/shm) ' /proc/self/mountinfo"))
	b.Mutate(func(s *specs.Spec) {
		s.Linux.MountLabel = mountLabel
		s.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}})
	})
	out := mustOK(t, "run", b.Run())
	for _, mnt := range []string{" /tmp ", " /dev/pts ", " /dev/shm "} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, mnt) {
				found = true
				if !strings.Contains(line, "context=") || !strings.Contains(line, "container_file_t") {
					t.Errorf("mount%sdoes not carry mountLabel: %s", mnt, line)
				}
			}
		}
		if !found {
			t.Errorf("mount%snot found in:\n%s", mnt, out)
		}
	}
}
