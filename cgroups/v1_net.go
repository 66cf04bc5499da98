package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *v1Manager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		dir := m.path("net_cls")
		if dir == "" {
			return fmt.Errorf("cgroup: network.classID: the net_cls controller is not mounted")
		}
		if err := writeFile(dir, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return resourceError("network.classID", err)
		}
	}
	if len(n.Priorities) > 0 {
		dir := m.path("net_prio")
		if dir == "" {
			return fmt.Errorf("cgroup: network.priorities: the net_prio controller is not mounted")
		}
		for _, p := range n.Priorities {
			if p.Name == "" || strings.ContainsAny(p.Name, " \t\n") {
				return fmt.Errorf("cgroup: network.priorities: invalid interface name %q", p.Name)
			}
			if err := writeFile(dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
				return resourceError("network.priorities", err)
			}
		}
	}
	return nil
}
