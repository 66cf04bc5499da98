package suite

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCgroupMounts(t *testing.T) {
	info := "22 1 0:21 / /sys rw - sysfs sysfs rw\n" +
		"30 22 0:26 / /sys/fs/cgroup/unified rw shared:5 - cgroup2 cgroup2 rw\n" +
		"31 22 0:27 / /sys/fs/cgroup/cpu rw shared:6 - cgroup cgroup rw,cpu\n" +
		"32 22 0:28 / /mnt/with\\040space rw - cgroup cgroup rw,pids\n"
	p := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(p, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := cgroupMounts(p)
	if err != nil {
		t.Fatalf("cgroupMounts: %v", err)
	}
	want := []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/cpu", "/mnt/with space"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cgroupMounts = %q, want %q", got, want)
	}
	if _, err := cgroupMounts(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("cgroupMounts of a missing file succeeded")
	}
}

// clean is exercised on an ordinary directory tree: rmdir semantics are the
// same, and a non-empty directory stands in for a populated cgroup.
func TestCgroupLeftoversClean(t *testing.T) {
	root := t.TempDir()
	tree := filepath.Join(root, "testdir")
	if err := os.MkdirAll(filepath.Join(tree, "cgrouptest", "container"), 0o755); err != nil {
		t.Fatal(err)
	}
	busy := filepath.Join(root, "cgrouptest")
	if err := os.MkdirAll(busy, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(busy, "tasks"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cgroupLeftovers{candidates: []string{tree, busy, filepath.Join(root, "absent")}}
	stuck := c.clean()
	if _, err := os.Stat(tree); !os.IsNotExist(err) {
		t.Errorf("%s still exists (err %v)", tree, err)
	}
	if !reflect.DeepEqual(stuck, []string{busy}) {
		t.Errorf("stuck = %q, want [%s]", stuck, busy)
	}
}
