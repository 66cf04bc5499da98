package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
)

// CgroupDirs returns the directory of cgroup name (e.g. "runo-engines-ab12")
// in every mounted cgroup hierarchy, v1 and v2.
func CgroupDirs(name string) ([]string, error) {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var dirs []string
	for _, m := range ms {
		d := filepath.Join(m.Mountpoint, name)
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// Sweep removes what the engines of one run may have left behind: processes
// in the run's cgroups or whose command line names the run's directory,
// mounts under the directory, the cgroups, then the directory itself. Every
// object it touches was created under names unique to this run.
func Sweep(dir, cgroupName string) error {
	var errs []error
	cgDirs, err := CgroupDirs(cgroupName)
	if err != nil {
		errs = append(errs, err)
	}
	for round := 0; round < 20; round++ {
		pids := pidsInCgroups(cgDirs)
		for _, p := range pidsNaming(dir) {
			pids[p] = true
		}
		if len(pids) == 0 {
			break
		}
		thaw(cgDirs)
		for p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	for _, d := range cgDirs {
		if err := rmdirTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

func pidsInCgroups(dirs []string) map[int]bool {
	pids := map[int]bool{}
	self := os.Getpid()
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.IsDir() {
				return nil
			}
			data, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(data)) {
				if n, err := strconv.Atoi(f); err == nil && n != self {
					pids[n] = true
				}
			}
			return nil
		})
	}
	return pids
}

// pidsNaming finds processes (shims, conmon, stray daemons) whose command
// line contains dir: only this run's processes can name its random path.
func pidsNaming(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cl), dir) {
			out = append(out, pid)
		}
	}
	return out
}

// thaw unfreezes this run's frozen cgroups: a SIGKILL does not take effect
// in a frozen cgroup.
func thaw(dirs []string) {
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.IsDir() {
				return nil
			}
			if _, err := os.Stat(filepath.Join(p, "freezer.state")); err == nil {
				os.WriteFile(filepath.Join(p, "freezer.state"), []byte("THAWED"), 0)
			}
			if _, err := os.Stat(filepath.Join(p, "cgroup.freeze")); err == nil {
				os.WriteFile(filepath.Join(p, "cgroup.freeze"), []byte("0"), 0)
			}
			return nil
		})
	}
}

func unmountUnder(dir string) error {
	var errs []error
	for round := 0; round < 5; round++ {
		ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
		if err != nil {
			return err
		}
		var points []string
		for _, m := range ms {
			points = append(points, m.Mountpoint)
		}
		if len(points) == 0 {
			return nil
		}
		// Deepest first, so a parent is never busy with a child mount.
		sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
		errs = errs[:0]
		for _, p := range points {
			if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirTree removes a cgroup directory and its children, deepest first;
// cgroupfs directories are removed with rmdir, never unlink.
func rmdirTree(root string) error {
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var dirs []string
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var last error
	for try := 0; try < 20; try++ {
		last = nil
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				last = fmt.Errorf("rmdir cgroup %s: %w", d, err)
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}
