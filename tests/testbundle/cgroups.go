package testbundle

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
)

// CgroupRoot is where the host mounts its cgroup hierarchies.
const CgroupRoot = "/sys/fs/cgroup"

// Hierarchies lists the mounted cgroup hierarchies (v1 controllers, named
// hierarchies and the v2 mount), as absolute directories.
func Hierarchies() []string {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.Mountpoint, CgroupRoot) {
			out = append(out, m.Mountpoint)
		}
	}
	sort.Strings(out)
	return out
}

// V1Path returns the host directory of a v1 controller for a cgroupsPath, or
// "" when that controller is not mounted on its own.
func V1Path(controller, cgroupsPath string) string {
	dir := filepath.Join(CgroupRoot, controller)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return filepath.Join(dir, cgroupsPath)
}

// cgroupDirs lists every directory under parent (relative like
// "/runo-test-x") in every hierarchy, as "hierarchy:relative" entries.
func cgroupDirs(parent string) []string {
	var out []string
	for _, h := range Hierarchies() {
		base := filepath.Join(h, parent)
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(h, p)
			out = append(out, filepath.Base(h)+":/"+rel)
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// cgroupProcs returns the pids in every cgroup under parent.
func cgroupProcs(parent string) []int {
	seen := map[int]bool{}
	var out []int
	for _, h := range Hierarchies() {
		filepath.WalkDir(filepath.Join(h, parent), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			data, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
					seen[pid] = true
					out = append(out, pid)
				}
			}
			return nil
		})
	}
	return out
}

// CreateCgroupParent creates parent in every hierarchy, so that snapshots
// measure what the runtime itself creates below it. A new v1 cpuset cgroup
// starts with no cpus or mems, which would make every child unusable, so
// those are copied from the hierarchy root.
func CreateCgroupParent(parent string) error {
	for _, h := range Hierarchies() {
		dir := filepath.Join(h, parent)
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			val, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				continue // not the cpuset hierarchy
			}
			if err := os.WriteFile(filepath.Join(dir, f), val, 0o644); err != nil {
				return fmt.Errorf("copy %s to %s: %w", f, dir, err)
			}
		}
	}
	return nil
}

// RemoveCgroupTree removes parent from every hierarchy, deepest first. Any
// process still inside belongs to a test container, so it is killed first.
func RemoveCgroupTree(t testing.TB, parent string) {
	t.Helper()
	if parent == "" || parent == "/" {
		return
	}
	for _, pid := range cgroupProcs(parent) {
		t.Logf("cleanup: killing leftover pid %d in %s", pid, parent)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, h := range Hierarchies() {
		base := filepath.Join(h, parent)
		var dirs []string
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Children before parents: rmdir of a cgroup with children fails.
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			rmdirRetry(t, d)
		}
	}
}

func rmdirRetry(t testing.TB, dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Rmdir(dir)
		if err == nil || err == syscall.ENOENT {
			return
		}
		if err != syscall.EBUSY || time.Now().After(deadline) {
			t.Logf("cleanup: rmdir %s: %v", dir, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
