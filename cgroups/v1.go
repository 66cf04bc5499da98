package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// v1Manager drives cgroup v1 hosts, including the hybrid layout where a cgroup2 hierarchy
// is mounted beside the v1 ones: the container then also gets a directory there so that
// controllers living only in cgroup2 (hugetlb on some hosts) and tools expecting it work.
//
// A manager is not safe for concurrent use.
type v1Manager struct {
	dirs []v1Dir // one per mounted v1 hierarchy
	// unified is the container's directory in the cgroup2 hierarchy on hybrid hosts.
	unified      string
	unifiedMount *hierarchy
	// created lists directories this manager made, so Destroy may remove parents it
	// created but never a pre-existing one.
	created []string
}

type v1Dir struct {
	h   hierarchy
	dir string
}

func (d *v1Dir) has(ctrl string) bool {
	for _, c := range d.h.Controllers {
		if c == ctrl {
			return true
		}
	}
	return false
}

func newV1Manager(cfg Config, l *layout) (*v1Manager, error) {
	m := &v1Manager{}
	for _, h := range l.V1 {
		dir, err := resolveDir(&h, cfg.Path, cfg.ContainerID)
		if err != nil {
			return nil, err
		}
		m.dirs = append(m.dirs, v1Dir{h: h, dir: dir})
	}
	if l.Mode == modeHybrid {
		dir, err := resolveDir(l.Unified, cfg.Path, cfg.ContainerID)
		if err != nil {
			return nil, err
		}
		m.unified = dir
		m.unifiedMount = l.Unified
	}
	return m, nil
}

// path returns the container's directory for a v1 controller, or "" when no hierarchy
// carries that controller.
func (m *v1Manager) path(ctrl string) string {
	for i := range m.dirs {
		if m.dirs[i].has(ctrl) {
			return m.dirs[i].dir
		}
	}
	return ""
}

func (m *v1Manager) Unified() bool { return false }

func (m *v1Manager) Paths() map[string]string {
	p := make(map[string]string)
	for _, d := range m.dirs {
		for _, c := range d.h.Controllers {
			p[c] = d.dir
		}
	}
	if m.unified != "" {
		p[""] = m.unified
	}
	return p
}

func (m *v1Manager) MountPoints() []MountPoint {
	var mps []MountPoint
	for _, d := range m.dirs {
		// The host's mountpoint name ("cpu,cpuacct", "systemd") is what software inside
		// the container expects to find.
		dest := filepath.Base(d.h.Mountpoint)
		mp := MountPoint{Source: d.dir, Dest: dest}
		for _, c := range d.h.Controllers {
			c = strings.TrimPrefix(c, "name=")
			if c != dest {
				mp.Symlinks = append(mp.Symlinks, c)
			}
		}
		mps = append(mps, mp)
	}
	if m.unified != "" {
		mps = append(mps, MountPoint{Source: m.unified, Dest: "unified"})
	}
	sort.Slice(mps, func(i, j int) bool { return mps[i].Dest < mps[j].Dest })
	return mps
}

func (m *v1Manager) Create() error {
	for _, d := range m.dirs {
		if err := mkdirTracked(d.h.Mountpoint, d.dir, d.has("cpuset"), &m.created); err != nil {
			return err
		}
	}
	if m.unified != "" {
		if err := mkdirTracked(m.unifiedMount.Mountpoint, m.unified, false, &m.created); err != nil {
			return err
		}
	}
	return nil
}

// mkdirTracked creates dir below mount one level at a time, appending each directory it
// made to created. A new cpuset cgroup starts with empty cpus and mems, and the kernel
// refuses to attach a task to it, so with cpuset each level gets its parent's values
// before anything can join.
func mkdirTracked(mount, dir string, cpuset bool, created *[]string) error {
	rel, err := filepath.Rel(mount, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup: %s is not below %s", dir, mount)
	}
	cur := mount
	for _, comp := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, comp)
		err := os.Mkdir(cur, 0o755)
		switch {
		case err == nil:
			*created = append(*created, cur)
		case errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("cgroup: create %s: %w", cur, err)
		}
		if cpuset {
			if err := inheritCpuset(mount, cur); err != nil {
				return err
			}
		}
	}
	return nil
}

func inheritCpuset(mount, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := readFile(dir, f)
		if err != nil {
			return fmt.Errorf("cgroup: cpuset: %w", err)
		}
		if v != "" {
			continue
		}
		for anc := filepath.Dir(dir); ; anc = filepath.Dir(anc) {
			if v, err = readFile(anc, f); err != nil {
				return fmt.Errorf("cgroup: cpuset: %w", err)
			}
			if v != "" || anc == mount || !strings.HasPrefix(anc, mount) {
				break
			}
		}
		if v == "" {
			return fmt.Errorf("cgroup: cpuset: no ancestor of %s has %s set", dir, f)
		}
		if err := writeFile(dir, f, v); err != nil {
			return fmt.Errorf("cgroup: cpuset: %w", err)
		}
	}
	return nil
}

func (m *v1Manager) Apply(pid int) error {
	val := strconv.Itoa(pid)
	for _, d := range m.dirs {
		if err := writeFile(d.dir, "cgroup.procs", val); err != nil {
			return fmt.Errorf("cgroup: join %s: %w", d.h.key(), err)
		}
	}
	if m.unified != "" {
		if err := writeFile(m.unified, "cgroup.procs", val); err != nil {
			return fmt.Errorf("cgroup: join unified: %w", err)
		}
	}
	return nil
}

// Set applies every resource in r; fields left nil are not touched, so Set also serves
// updates. All controllers are attempted in a fixed order and the first error is returned.
func (m *v1Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setCpuset,
		m.setMemory,
		m.setCPU,
		m.setPids,
		m.setBlkio,
		m.setHugetlb,
		m.setNetwork,
		m.setRdma,
		m.setDevices,
		m.setUnifiedV1,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

// procsDir picks the hierarchy whose cgroup.procs lists the container's processes: any
// hierarchy works, but pids, freezer and memory are the ones containers always join.
func (m *v1Manager) procsDir() string {
	for _, c := range []string{"pids", "freezer", "memory", "devices", "cpu"} {
		if p := m.path(c); p != "" {
			return p
		}
	}
	if len(m.dirs) > 0 {
		return m.dirs[0].dir
	}
	return m.unified
}

func (m *v1Manager) Pids() ([]int, error) {
	dir := m.procsDir()
	pids, err := walkPids(dir)
	if err != nil {
		return nil, fmt.Errorf("cgroup: list pids: %w", err)
	}
	return pids, nil
}

func (m *v1Manager) Kill(sig int) error {
	return killAll(m, sig)
}

// killAll freezes the cgroup so that no process can fork a child that escapes the signal,
// signals every process, then thaws it so they can act on the signal.
func killAll(m Manager, sig int) error {
	frozeErr := m.Freeze()
	pids, err := m.Pids()
	if err != nil {
		if frozeErr == nil {
			_ = m.Thaw()
		}
		return err
	}
	var firstErr error
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.Signal(sig)); err != nil && err != unix.ESRCH && firstErr == nil {
			firstErr = fmt.Errorf("cgroup: kill %d: %w", pid, err)
		}
	}
	if frozeErr == nil {
		if err := m.Thaw(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// destroyTimeout bounds how long Destroy waits for exiting processes to leave.
const destroyTimeout = time.Second

func (m *v1Manager) Destroy() error {
	deadline := time.Now().Add(destroyTimeout)
	var firstErr error
	dirs := make([]string, 0, len(m.dirs)+1)
	for _, d := range m.dirs {
		dirs = append(dirs, d.dir)
	}
	if m.unified != "" {
		dirs = append(dirs, m.unified)
	}
	for _, d := range dirs {
		if err := removeTree(d, deadline); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	removeCreatedParents(m.created, dirs)
	if firstErr == nil {
		m.created = nil
	}
	return firstErr
}

// removeTree removes dir and any cgroups nested in it, children first, retrying EBUSY
// until deadline while the last processes exit.
func removeTree(dir string, deadline time.Time) error {
	// A container's cgroup normally has no children and no processes left: one rmdir does it
	// without reading the directory. Children (exec --cgroup, nested runtimes) or exiting
	// processes make it fail, and only then is the walk worth its syscalls.
	switch err := unix.Rmdir(dir); err {
	case nil, unix.ENOENT:
		return nil
	case unix.EBUSY, unix.ENOTEMPTY, unix.EEXIST:
	default:
		return fmt.Errorf("cgroup: remove %s: %w", dir, err)
	}
	subs, err := subdirsDeepestFirst(dir)
	if err != nil {
		return fmt.Errorf("cgroup: destroy %s: %w", dir, err)
	}
	for _, d := range subs {
		if err := rmdirRetry(d, deadline); err != nil {
			return err
		}
	}
	return nil
}

func rmdirRetry(dir string, deadline time.Time) error {
	delay := time.Millisecond
	for {
		err := unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY || time.Now().After(deadline) {
			return fmt.Errorf("cgroup: remove %s: %w", dir, err)
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// removeCreatedParents removes directories this manager created above the container's
// own ones, deepest first, leaving any that hold other cgroups.
func removeCreatedParents(created, leaves []string) {
	isLeaf := make(map[string]bool, len(leaves))
	for _, l := range leaves {
		isLeaf[l] = true
	}
	for i := len(created) - 1; i >= 0; i-- {
		if !isLeaf[created[i]] {
			_ = unix.Rmdir(created[i]) // busy or non-empty parents belong to others now
		}
	}
}
