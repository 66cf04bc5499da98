package suite

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// cgroupMounts lists the mount points of cgroup v1 and v2 file systems.
func cgroupMounts(mountinfo string) ([]string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", mountinfo, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "36 35 0:31 / /sys/fs/cgroup/cpu rw,... shared:9 - cgroup cgroup rw,cpu"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(postFields) < 1 {
			continue
		}
		if postFields[0] == "cgroup" || postFields[0] == "cgroup2" {
			out = append(out, unescapeMountPath(fields[4]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", mountinfo, err)
	}
	return out, nil
}

// unescapeMountPath undoes the octal escapes (\040 for space, ...) of
// mountinfo paths.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
