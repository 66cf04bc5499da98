package suite

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/moby/sys/mountinfo"
)

// The cgroup tests of runtime-tools use these fixed cgroupsPath values
// (cgroups.AbsCgroupPath and cgroups.RelCgroupPath). Runtimes remove the
// container's own cgroup on delete but not the parents they created, and a
// failed create can leave the leaf too; so the runner removes, after every
// program, whichever of these trees did not exist before the suite started.
var testCgroupNames = []string{"cgrouptest", "testdir"}

// cgroupLeftovers tracks the test cgroup trees owned by this run.
type cgroupLeftovers struct {
	candidates []string // trees absent at start, so created by the suite
}

func newCgroupLeftovers() (*cgroupLeftovers, error) {
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	c := &cgroupLeftovers{}
	for _, m := range mounts {
		for _, n := range testCgroupNames {
			p := filepath.Join(m, n)
			if _, err := os.Lstat(p); os.IsNotExist(err) {
				c.candidates = append(c.candidates, p)
			}
		}
	}
	return c, nil
}

// clean removes the suite-created trees bottom-up with rmdir, which the
// kernel refuses for a cgroup that still has processes: nothing alive is
// ever torn down. It returns the directories it could not remove.
func (c *cgroupLeftovers) clean() []string {
	var stuck []string
	for _, root := range c.candidates {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
				stuck = append(stuck, d)
			}
		}
	}
	return stuck
}

// cgroupMounts lists the mount points of cgroup v1 and v2 file systems in the mountinfo
// file at path.
func cgroupMounts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	ms, err := mountinfo.GetMountsFromReader(f, mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Mountpoint
	}
	return out, nil
}
