package cgroups

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rdmaLines renders linux.resources.rdma as rdma.max lines ("mlx4_0 hca_handle=2
// hca_object=max"), one per device, sorted so the write order is stable. rdma.max has the
// same syntax on v1 and v2.
func rdmaLines(rdma map[string]specs.LinuxRdma) ([]string, error) {
	var lines []string
	for dev, l := range rdma {
		if dev == "" || strings.ContainsAny(dev, " \t\n") {
			return nil, fmt.Errorf("cgroup: rdma: invalid device name %q", dev)
		}
		var parts []string
		if l.HcaHandles != nil {
			parts = append(parts, fmt.Sprintf("hca_handle=%d", *l.HcaHandles))
		}
		if l.HcaObjects != nil {
			parts = append(parts, fmt.Sprintf("hca_object=%d", *l.HcaObjects))
		}
		if len(parts) == 0 {
			continue
		}
		lines = append(lines, dev+" "+strings.Join(parts, " "))
	}
	sort.Strings(lines)
	return lines, nil
}

func applyRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	lines, err := rdmaLines(rdma)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := writeFile(dir, "rdma.max", l); err != nil {
			return resourceError("rdma", err)
		}
	}
	return nil
}

func (m *v1Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	dir := m.path("rdma")
	if dir == "" {
		return fmt.Errorf("cgroup: rdma: the rdma controller is not mounted")
	}
	return applyRdma(dir, r.Rdma)
}
