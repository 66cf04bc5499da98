package cgroups

import "fmt"

// OOMKills returns how many processes the OOM killer has killed in the cgroup so far; `runo
// events` reports an "oom" event when it grows. v1 keeps the counter in
// memory.oom_control, v2 in memory.events.
func OOMKills(m Manager) (uint64, error) {
	switch mm := m.(type) {
	case *v1Manager:
		dir := mm.path("memory")
		if dir == "" {
			return 0, fmt.Errorf("cgroup: memory controller not mounted")
		}
		kv, err := readKeyValues(dir, "memory.oom_control")
		if err != nil {
			return 0, fmt.Errorf("cgroup: %w", err)
		}
		return kv["oom_kill"], nil
	case *v2Manager:
		kv, err := readKeyValues(mm.dir, "memory.events")
		if err != nil {
			return 0, fmt.Errorf("cgroup: %w", err)
		}
		return kv["oom_kill"], nil
	}
	return 0, fmt.Errorf("cgroup: unknown manager %T", m)
}
