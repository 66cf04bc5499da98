package cgroups

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v2Manager drives a pure cgroup v2 host: one directory holds every controller.
//
// A manager is not safe for concurrent use.
type v2Manager struct {
	mount *hierarchy
	dir   string
	// created lists directories this manager made, so Destroy may remove parents it
	// created but never a pre-existing one.
	created []string
}

func newV2Manager(cfg Config, l *layout) (*v2Manager, error) {
	dir, err := resolveDir(l.Unified, cfg.Path, cfg.ContainerID)
	if err != nil {
		return nil, err
	}
	return &v2Manager{mount: l.Unified, dir: dir}, nil
}

func (m *v2Manager) Unified() bool             { return true }
func (m *v2Manager) Paths() map[string]string  { return map[string]string{"": m.dir} }
func (m *v2Manager) MountPoints() []MountPoint { return []MountPoint{{Source: m.dir, Dest: ""}} }

// Create makes the directory and delegates controllers to it, so that it has the interface
// files (for stats and later updates) even when no limit is set: the root and every
// ancestor enable, best effort, all the controllers they have. A controller an ancestor
// cannot enable (processes in it, a real-time task in the root) is left; Set enables what a
// requested limit needs and reports what it cannot.
func (m *v2Manager) Create() error {
	if err := mkdirTracked(m.mount.Mountpoint, m.dir, false, &m.created); err != nil {
		return err
	}
	// Every ancestor, pre-existing or not, offers its children all the controllers it has, as
	// runc's v2 driver does: under a parent made by an engine or an admin, a container with no
	// limits must still get memory.*, pids.* and cpu.* files (stats, memory.peak, update).
	levels, err := ancestors(m.mount.Mountpoint, m.dir)
	if err != nil {
		return err
	}
	for _, lvl := range levels {
		avail, err := readFile(lvl, "cgroup.controllers")
		if err != nil {
			return fmt.Errorf("cgroup: read controllers of %s: %w", lvl, err)
		}
		enabled, err := readFile(lvl, "cgroup.subtree_control")
		if err != nil {
			return fmt.Errorf("cgroup: read subtree_control of %s: %w", lvl, err)
		}
		for _, c := range strings.Fields(avail) {
			if !hasField(enabled, c) {
				// Best effort: e.g. cpu cannot be enabled while real-time tasks sit in
				// the root; a limit that needs it fails in Set with the reason.
				_ = writeFile(lvl, "cgroup.subtree_control", "+"+c)
			}
		}
	}
	return nil
}

func (m *v2Manager) Apply(pid int) error {
	if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("cgroup: join %s: %w", m.dir, err)
	}
	return nil
}

func (m *v2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if r.Network != nil && (r.Network.ClassID != nil || len(r.Network.Priorities) > 0) {
		return fmt.Errorf("cgroup: network: cgroup v2 has no net_cls/net_prio controllers")
	}
	steps := []func(*specs.LinuxResources) error{
		m.setMemory,
		m.setCPU,
		m.setCpuset,
		m.setPids,
		m.setIO,
		m.setHugetlb,
		m.setRdma,
		m.setDevices,
		m.setUnified,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

// need makes the controller usable in the container's directory or returns an error naming
// the resource that needed it.
func (m *v2Manager) need(resource, ctrl string) error {
	if err := ensureControllers(m.mount.Mountpoint, m.dir, []string{ctrl}); err != nil {
		return resourceError(resource, err)
	}
	return nil
}

func (m *v2Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	if err := m.need("pids.limit", "pids"); err != nil {
		return err
	}
	if err := writeFile(m.dir, "pids.max", pidsMaxValue(*r.Pids.Limit)); err != nil {
		return resourceError("pids.limit", err)
	}
	return nil
}

func (m *v2Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if err := m.need("hugepageLimits", "hugetlb"); err != nil {
		return err
	}
	return applyHugetlb(m.dir, r.HugepageLimits, true)
}

func (m *v2Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	if err := m.need("rdma", "rdma"); err != nil {
		return err
	}
	return applyRdma(m.dir, r.Rdma)
}

func (m *v2Manager) setUnified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	keys := sortedKeys(r.Unified)
	ctrls, err := unifiedControllers(keys)
	if err != nil {
		return err
	}
	if err := ensureControllers(m.mount.Mountpoint, m.dir, ctrls); err != nil {
		return resourceError("unified", err)
	}
	return writeUnified(m.dir, r.Unified, keys)
}

func (m *v2Manager) Freeze() error { return m.setFrozen(true) }
func (m *v2Manager) Thaw() error   { return m.setFrozen(false) }

// setFrozen writes cgroup.freeze and waits for cgroup.events to report the new state: the
// write only requests it, tasks stop at their next return to user space.
func (m *v2Manager) setFrozen(frozen bool) error {
	want := boolDigit(frozen)
	if err := writeFile(m.dir, "cgroup.freeze", want); err != nil {
		return resourceError("freezer", err)
	}
	deadline := time.Now().Add(freezeTimeout)
	delay := 100 * time.Microsecond
	for {
		ev, err := readKeyValues(m.dir, "cgroup.events")
		if err != nil {
			return resourceError("freezer", err)
		}
		if strconv.FormatUint(ev["frozen"], 10) == want {
			return nil
		}
		if time.Now().After(deadline) {
			if frozen {
				_ = writeFile(m.dir, "cgroup.freeze", "0")
			}
			return fmt.Errorf("cgroup: freezer: %s did not reach frozen=%s within %v", m.dir, want, freezeTimeout)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

func (m *v2Manager) Frozen() (bool, error) {
	ev, err := readKeyValues(m.dir, "cgroup.events")
	if err != nil {
		return false, resourceError("freezer", err)
	}
	return ev["frozen"] == 1, nil
}

func (m *v2Manager) Pids() ([]int, error) {
	pids, err := walkPids(m.dir)
	if err != nil {
		return nil, fmt.Errorf("cgroup: list pids: %w", err)
	}
	return pids, nil
}

// Kill uses cgroup.kill for SIGKILL when the kernel has it (5.14+): it kills the whole
// subtree atomically, with no fork race.
func (m *v2Manager) Kill(sig int) error {
	if sig == 9 && fileExists(m.dir, "cgroup.kill") {
		if err := writeFile(m.dir, "cgroup.kill", "1"); err != nil {
			return fmt.Errorf("cgroup: kill: %w", err)
		}
		return nil
	}
	return killAll(m, sig)
}

func (m *v2Manager) Destroy() error {
	err := removeTree(m.dir, time.Now().Add(destroyTimeout))
	removeCreatedParents(m.created, []string{m.dir})
	if err == nil {
		m.created = nil
	}
	return err
}
