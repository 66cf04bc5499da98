package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setUnifiedV1 handles linux.resources.unified on v1 hosts. Only a hybrid host has a
// cgroup2 hierarchy to write to, and only for controllers bound to it.
func (m *v1Manager) setUnifiedV1(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	if m.unified == "" {
		return fmt.Errorf("cgroup: unified: the host has no cgroup v2 hierarchy")
	}
	keys := sortedKeys(r.Unified)
	ctrls, err := unifiedControllers(keys)
	if err != nil {
		return err
	}
	for _, c := range ctrls {
		if m.path(c) != "" {
			return fmt.Errorf("cgroup: unified: the %s controller is bound to a cgroup v1 hierarchy", c)
		}
	}
	// Create made the cgroup2 directory; only the controllers may still need enabling.
	if err := ensureControllers(m.unifiedMount.Mountpoint, m.unified, ctrls); err != nil {
		return resourceError("unified", err)
	}
	return writeUnified(m.unified, r.Unified, keys)
}
