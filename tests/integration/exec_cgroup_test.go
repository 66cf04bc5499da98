package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestExecSubCgroup: exec --cgroup puts the process in an existing sub-cgroup of the
// container's cgroup, for every hierarchy or per v1 controller, and refuses paths that are
// missing or leave the container's cgroup.
func TestExecSubCgroup(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	mustExit(t, b.Run("-d"), 0, "run -d")
	t.Cleanup(func() { b.Runo("delete", "-f", b.ID) })
	// The sub-cgroup in every hierarchy the container has (v1 controllers, name=systemd,
	// the hybrid unified one).
	containers, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", b.Spec.Linux.CgroupsPath))
	if len(containers) == 0 {
		t.Fatalf("no cgroup directory for %s", b.Spec.Linux.CgroupsPath)
	}
	for _, c := range containers {
		dir := filepath.Join(c, "inner")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(dir) })
		// A v1 cpuset child takes no task until it has cpus and mems.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(c, f)); err == nil {
				if err := os.WriteFile(filepath.Join(dir, f), v, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	line := func(out, ctrl string) string {
		for _, l := range strings.Split(out, "\n") {
			if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[1] == ctrl {
				return parts[2]
			}
		}
		return ""
	}
	r := b.Runo("exec", "--cgroup", "memory:inner", b.ID, "cat", "/proc/self/cgroup")
	mustExit(t, r, 0, "exec --cgroup memory:inner")
	if got := line(r.Stdout, "memory"); !strings.HasSuffix(got, "/inner") {
		t.Errorf("memory cgroup %q, want the inner sub-cgroup", got)
	}
	if got := line(r.Stdout, "pids"); strings.HasSuffix(got, "/inner") {
		t.Errorf("pids cgroup %q: only memory was asked for", got)
	}
	r = b.Runo("exec", "--cgroup", "inner", b.ID, "cat", "/proc/self/cgroup")
	mustExit(t, r, 0, "exec --cgroup inner")
	for _, ctrl := range []string{"memory", "pids"} {
		if got := line(r.Stdout, ctrl); !strings.HasSuffix(got, "/inner") {
			t.Errorf("%s cgroup %q, want inner", ctrl, got)
		}
	}
	for _, bad := range []string{"nosuch", "../escape", "bogusctrl:inner"} {
		r := b.Runo("exec", "--cgroup", bad, b.ID, "true")
		mustExit(t, r, 255, "exec --cgroup "+bad)
		assertMentions(t, r.Stderr, "--cgroup")
	}
}
