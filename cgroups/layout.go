package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// cgroupRoot is where distributions mount cgroups; only its filesystem type decides whether
// the host is pure cgroup v2.
const cgroupRoot = "/sys/fs/cgroup"

type layoutMode int

const (
	modeV1      layoutMode = iota // cgroup v1 hierarchies only
	modeHybrid                    // v1 hierarchies plus a cgroup2 mount (systemd's "hybrid")
	modeUnified                   // pure cgroup v2
)

func (m layoutMode) String() string {
	switch m {
	case modeV1:
		return "v1"
	case modeHybrid:
		return "hybrid"
	case modeUnified:
		return "unified"
	}
	return fmt.Sprintf("layoutMode(%d)", int(m))
}

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	Mountpoint string
	// Root is the directory of the hierarchy that is mounted at Mountpoint (not "/" when
	// only a subtree is visible, e.g. inside a container).
	Root string
	// Controllers are the v1 controllers bound to this hierarchy ("cpu", "cpuacct",
	// "name=systemd"); empty for cgroup2.
	Controllers []string
	// Own is the cgroup of this process in the hierarchy, from /proc/self/cgroup.
	Own string
}

// key names the hierarchy as the kernel does in /proc/self/cgroup ("cpu,cpuacct").
func (h *hierarchy) key() string { return strings.Join(h.Controllers, ",") }

// layout describes the cgroup hierarchies visible to this process.
type layout struct {
	Mode    layoutMode
	V1      []hierarchy // sorted by mountpoint
	Unified *hierarchy  // the cgroup2 mount (pure v2 and hybrid)
}

// detectLayout inspects the running host.
func detectLayout() (*layout, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", cgroupRoot, err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	subsys, err := knownSubsystems()
	if err != nil {
		return nil, err
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	return buildLayout(st.Type == unix.CGROUP2_SUPER_MAGIC, mounts, subsys, string(own))
}

// knownSubsystems lists the v1 controller names the kernel knows, so that mount options
// such as "xattr" or "clone_children" are not mistaken for controllers.
func knownSubsystems() (map[string]bool, error) {
	f, err := os.Open("/proc/cgroups")
	if err != nil {
		// Kernels built without v1 support may lack the file; then only named hierarchies
		// can be recognised.
		if os.IsNotExist(err) {
			return map[string]bool{}, nil
		}
		return nil, fmt.Errorf("read /proc/cgroups: %w", err)
	}
	defer f.Close()
	return parseSubsystems(f)
}

func parseSubsystems(r io.Reader) (map[string]bool, error) {
	m := make(map[string]bool)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) > 0 {
			m[f[0]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/cgroups: %w", err)
	}
	return m, nil
}

// parseOwnCgroups maps each hierarchy key of /proc/self/cgroup ("cpu,cpuacct",
// "name=systemd", "" for cgroup2) to this process's cgroup in it.
func parseOwnCgroups(s string) map[string]string {
	m := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		m[parts[1]] = parts[2]
	}
	return m
}

// buildLayout is detectLayout without the host: pure input, so tests can feed it fake
// mount tables.
func buildLayout(rootIsCgroup2 bool, mounts []*mountinfo.Info, subsys map[string]bool, ownCgroup string) (*layout, error) {
	own := parseOwnCgroups(ownCgroup)
	l := &layout{Mode: modeV1}
	seen := make(map[string]bool)
	for _, mi := range mounts {
		switch mi.FSType {
		case "cgroup2":
			h := &hierarchy{Mountpoint: mi.Mountpoint, Root: mi.Root, Own: own[""]}
			// Prefer the canonical mountpoints over bind mounts made elsewhere.
			if l.Unified == nil || mi.Mountpoint == cgroupRoot || mi.Mountpoint == filepath.Join(cgroupRoot, "unified") {
				l.Unified = h
			}
		case "cgroup":
			var ctrls []string
			for _, opt := range strings.Split(mi.VFSOptions, ",") {
				if subsys[opt] || strings.HasPrefix(opt, "name=") {
					ctrls = append(ctrls, opt)
				}
			}
			if len(ctrls) == 0 {
				continue
			}
			h := hierarchy{Mountpoint: mi.Mountpoint, Root: mi.Root, Controllers: ctrls}
			if seen[h.key()] {
				continue
			}
			seen[h.key()] = true
			h.Own = ownPathFor(own, ctrls)
			l.V1 = append(l.V1, h)
		}
	}
	sort.Slice(l.V1, func(i, j int) bool { return l.V1[i].Mountpoint < l.V1[j].Mountpoint })
	switch {
	case rootIsCgroup2:
		if l.Unified == nil {
			return nil, fmt.Errorf("%s is cgroup2 but no cgroup2 mount is listed in mountinfo", cgroupRoot)
		}
		l.Mode = modeUnified
		l.V1 = nil
	case len(l.V1) == 0:
		return nil, fmt.Errorf("no cgroup hierarchy is mounted")
	case l.Unified != nil:
		l.Mode = modeHybrid
	}
	return l, nil
}

// ownPathFor finds this process's cgroup in the hierarchy holding ctrls. The kernel names
// a hierarchy by its controllers in its own order, which need not be the mount-option
// order, so match on any shared controller.
func ownPathFor(own map[string]string, ctrls []string) string {
	for key, path := range own {
		if key == "" {
			continue
		}
		for _, k := range strings.Split(key, ",") {
			for _, c := range ctrls {
				if k == c {
					return path
				}
			}
		}
	}
	return "/"
}

// resolveDir gives the host directory of the container's cgroup in hierarchy h.
//
// cfgPath follows linux.cgroupsPath: an absolute path is taken from the root of the
// hierarchy; a relative path is taken from this runtime process's own cgroup in that
// hierarchy (as runc's cgroupfs driver does). An empty cgroupsPath means the relative path
// "<id>", again as runc's cgroupfs driver does: the container lands in a child named after it
// of the runtime's own cgroup (directly under the root when the runtime runs in the root
// cgroup). ".." components cannot climb above the root or above the runtime's cgroup.
func resolveDir(h *hierarchy, cfgPath, id string) (string, error) {
	inner := cfgPath
	if inner == "" {
		if id == "" {
			return "", fmt.Errorf("cgroup: neither cgroupsPath nor container id given")
		}
		inner = id
	}
	var rel string
	if filepath.IsAbs(inner) {
		rel = filepath.Clean(inner)
	} else {
		// Cleaning as if rooted drops leading ".." so the path stays below own.
		rel = filepath.Join(h.Own, filepath.Clean("/"+inner))
		if filepath.Clean("/"+inner) == "/" {
			return "", fmt.Errorf("cgroup: cgroupsPath %q names the runtime's own cgroup", cfgPath)
		}
	}
	if rel == "/" {
		return "", fmt.Errorf("cgroup: cgroupsPath %q names the root of the hierarchy", cfgPath)
	}
	// When only a subtree of the hierarchy is mounted (inside a container), the paths the
	// kernel reports include the hidden prefix.
	if h.Root != "/" && h.Root != "" {
		if trimmed, ok := strings.CutPrefix(rel, h.Root); ok && (trimmed == "" || trimmed[0] == '/') {
			rel = trimmed
			if rel == "" {
				return "", fmt.Errorf("cgroup: cgroupsPath %q names the root of the visible hierarchy", cfgPath)
			}
		}
	}
	return filepath.Join(h.Mountpoint, rel), nil
}
