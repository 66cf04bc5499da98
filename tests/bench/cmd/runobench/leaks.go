package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// leakSnap counts what a runtime leaves behind, compared before and after a
// phase.
type leakSnap struct {
	Mounts  int `json:"mounts"`
	Cgroups int `json:"cgroups"`
	States  int `json:"states"`
	Procs   int `json:"procs"`
}

func (a leakSnap) minus(b leakSnap) leakSnap {
	return leakSnap{a.Mounts - b.Mounts, a.Cgroups - b.Cgroups, a.States - b.States, a.Procs - b.Procs}
}

// clampZero drops negative differences: something of an earlier round
// that went away meanwhile is not a negative leak.
func (a leakSnap) clampZero() leakSnap {
	return leakSnap{max(a.Mounts, 0), max(a.Cgroups, 0), max(a.States, 0), max(a.Procs, 0)}
}

// snapshot counts: mountinfo lines of the harness's mount namespace (the one
// the runtimes run in); distinct "<rt>-*" cgroup dirs under the bench parent
// in any hierarchy; entries of the runtime's --root; live processes that sit
// in those cgroups or are live children of the harness that no command of
// it waits for. The harness is the child subreaper, so anything a runtime
// leaves running under it (container processes, a stuck runtime helper)
// ends up as its child; processes of other users of the same binaries are
// not counted.
func (b *bench) snapshot(rt *runtimeInfo) leakSnap {
	var s leakSnap
	if n, err := countMounts(); err == nil {
		s.Mounts = n
	}
	cgDirs := b.runtimeCgroupDirs(rt)
	names := map[string]bool{}
	for _, d := range cgDirs {
		names[filepath.Base(d)] = true
	}
	s.Cgroups = len(names)
	if ents, err := os.ReadDir(rt.Root); err == nil {
		s.States = len(ents)
	}
	s.Procs = len(b.runtimeProcs(cgDirs))
	return s
}

// runtimeCgroupDirs lists <hierarchy>/<bench parent>/<rt>-* directories.
func (b *bench) runtimeCgroupDirs(rt *runtimeInfo) []string {
	var out []string
	for _, h := range b.cg.hierarchies {
		ents, err := os.ReadDir(filepath.Join(h, b.cgParent))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() && strings.HasPrefix(e.Name(), rt.Name+"-") {
				out = append(out, filepath.Join(h, b.cgParent, e.Name()))
			}
		}
	}
	return out
}

func (b *bench) runtimeProcs(cgDirs []string) map[int]bool {
	procs := map[int]bool{}
	for _, d := range cgDirs {
		for _, pid := range cgroupPids(d) {
			procs[pid] = true
		}
	}
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return procs
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		ppid, state, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			delete(procs, pid)
			continue
		}
		if ppid == self && !b.x.reaper.isTracked(pid) {
			procs[pid] = true
		}
	}
	return procs
}

// cgroupPids reads cgroup.procs of one cgroup dir and its descendants.
func cgroupPids(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

func procStat(pid int) (ppid int, state byte, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, false
	}
	return ppid, fields[0][0], true
}

// settle waits (at most limit) for the runtime's processes to drop back to
// the baseline: a SIGKILLed process needs a moment to be torn down and
// reaped, which is not a leak.
func (b *bench) settle(rt *runtimeInfo, baseline int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if len(b.runtimeProcs(b.runtimeCgroupDirs(rt))) <= baseline {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
