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

	"github.com/moby/sys/mountinfo"
)

// Snapshot is the host state a failing runtime command must leave unchanged.
// Other runtimes may run on this machine at the same time, so mounts and
// processes are limited to those that can only belong to this bundle: mounts
// under its directories, processes rooted in or naming the bundle, in the
// bundle's cgroups, or children of this test process. Fds and children are
// per process, so a test comparing snapshots must not run in parallel with
// other tests of its binary.
type Snapshot struct {
	Mounts    []string
	Cgroups   []string
	StateDirs []string
	Procs     []string
	FDs       []string
}

// Snapshot records the host state relevant to b.
func (b *Bundle) Snapshot() Snapshot {
	b.t.Helper()
	return Snapshot{
		Mounts:    append(MountsUnder(b.Dir), MountsUnder(b.Root)...),
		Cgroups:   cgroupDirs(b.CgroupParent),
		StateDirs: listTree(b.Root),
		Procs:     b.ownedProcs(),
		FDs:       openFDs(),
	}
}

// Diff describes what changed from s to after, or "" if nothing did.
func (s Snapshot) Diff(after Snapshot) string {
	var out []string
	cmp := func(kind string, a, b []string) {
		added, removed := setDiff(a, b)
		for _, x := range added {
			out = append(out, fmt.Sprintf("%s added: %s", kind, x))
		}
		for _, x := range removed {
			out = append(out, fmt.Sprintf("%s removed: %s", kind, x))
		}
	}
	cmp("mount", s.Mounts, after.Mounts)
	cmp("cgroup", s.Cgroups, after.Cgroups)
	cmp("state", s.StateDirs, after.StateDirs)
	cmp("process", s.Procs, after.Procs)
	cmp("fd", s.FDs, after.FDs)
	return strings.Join(out, "\n")
}

// AssertUnchanged fails the test if the host state differs from before.
func (b *Bundle) AssertUnchanged(before Snapshot) {
	b.t.Helper()
	if d := before.Diff(b.Snapshot()); d != "" {
		b.t.Errorf("host state changed:\n%s", d)
	}
}

func setDiff(a, b []string) (added, removed []string) {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for _, x := range b {
		if !ma[x] {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !mb[x] {
			removed = append(removed, x)
		}
	}
	return added, removed
}

// MountsUnder lists mount points (from this process's mountinfo) at or below
// dir, deepest first.
func MountsUnder(dir string) []string {
	if dir == "" {
		return nil
	}
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Mountpoint)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func detach(mp string) {
	syscall.Unmount(mp, syscall.MNT_DETACH)
}

func listTree(root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

func (b *Bundle) ownedProcs() []string {
	self := os.Getpid()
	inCgroup := map[int]bool{}
	for _, pid := range cgroupProcs(b.CgroupParent) {
		inCgroup[pid] = true
	}
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		root, _ := os.Readlink(filepath.Join(dir, "root"))
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		cmd := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
		owned := inCgroup[pid] || ppid(dir) == self ||
			strings.HasPrefix(root, b.Dir) ||
			strings.Contains(cmd, b.Dir) || strings.Contains(cmd, b.Root) ||
			(b.ID != "" && strings.Contains(cmd, b.ID))
		if owned {
			out = append(out, fmt.Sprintf("%d %s", pid, cmd))
		}
	}
	sort.Strings(out)
	return out
}

func ppid(procDir string) int {
	data, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return -1
	}
	// The comm field may contain spaces, so parse after its closing paren.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return -1
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

func openFDs() []string {
	entries, _ := os.ReadDir("/proc/self/fd")
	var out []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			// The fd used to read the directory itself is gone by now.
			continue
		}
		out = append(out, e.Name()+" -> "+target)
	}
	sort.Strings(out)
	return out
}

// HostNamespace returns readlink(/proc/self/ns/<ns>) of the test process.
func HostNamespace(t testing.TB, ns string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + ns)
	if err != nil {
		t.Fatalf("readlink host ns %s: %v", ns, err)
	}
	return l
}
