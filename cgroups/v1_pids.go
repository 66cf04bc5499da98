package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *v1Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	dir := m.path("pids")
	if dir == "" {
		return fmt.Errorf("cgroup: pids.limit: the pids controller is not mounted")
	}
	if err := writeFile(dir, "pids.max", pidsMaxValue(*r.Pids.Limit)); err != nil {
		return resourceError("pids.limit", err)
	}
	return nil
}

// pidsMaxValue converts the spec's limit: negative is unlimited; 0 is a real limit (no
// new tasks at all), which runtime-spec v1.3.0 says runtimes should honour.
func pidsMaxValue(limit int64) string {
	if limit < 0 {
		return "max"
	}
	return fmt.Sprint(limit)
}
