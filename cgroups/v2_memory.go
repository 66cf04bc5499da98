package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v2Bytes renders a v1-style byte value: -1 is "max".
func v2Bytes(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// swapToV2 converts the spec's memory+swap total into memory.swap.max, which counts swap
// alone. 0 means "not set"; -1 stays unlimited. The result is "" when nothing is to be
// written.
func swapToV2(swap, limit int64) (string, error) {
	switch {
	case swap == 0:
		return "", nil
	case swap == -1:
		return "max", nil
	case swap < -1:
		return "", fmt.Errorf("cgroup: memory.swap: invalid value %d", swap)
	case limit == 0 || limit == -1:
		return "", fmt.Errorf("cgroup: memory.swap: a swap limit needs a memory limit on cgroup v2 (swap is memory+swap)")
	case swap < limit:
		return "", fmt.Errorf("cgroup: memory.swap: memory+swap limit %d is lower than the memory limit %d", swap, limit)
	}
	return strconv.FormatInt(swap-limit, 10), nil
}

func (m *v2Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil || !memoryRequested(mem) {
		return nil
	}
	if err := checkMemoryValues(mem); err != nil {
		return err
	}
	if v := mem.KernelTCP; v != nil && *v != 0 {
		return fmt.Errorf("cgroup: memory.kernelTCP: cgroup v2 has no kernel TCP memory limit")
	}
	if v := mem.Swappiness; v != nil {
		// memory.swappiness does not exist in v2; the global vm.swappiness applies.
		return fmt.Errorf("cgroup: memory.swappiness: not supported on cgroup v2")
	}
	if v := mem.DisableOOMKiller; v != nil && *v {
		return fmt.Errorf("cgroup: memory.disableOOMKiller: not supported on cgroup v2")
	}
	if v := mem.UseHierarchy; v != nil && !*v {
		return fmt.Errorf("cgroup: memory.useHierarchy: cgroup v2 accounting is always hierarchical")
	}
	// Kernel memory is counted in memory.max on v2 and has no separate limit; the caller
	// warns about the deprecated field, as on recent v1 kernels.
	var limit, swap int64
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	if limit == 0 && swap == 0 && (mem.Reservation == nil || *mem.Reservation == 0) {
		return nil
	}
	if err := m.need("memory", "memory"); err != nil {
		return err
	}
	swapVal, err := swapToV2(swap, limit)
	if err != nil {
		return err
	}
	// Like v1: lifting the memory limit with no swap setting lifts the swap limit too.
	if limit == -1 && swap == 0 && fileExists(m.dir, "memory.swap.max") {
		swapVal = "max"
	}
	if swapVal != "" {
		if !fileExists(m.dir, "memory.swap.max") {
			if swapVal != "max" {
				return errNotAvailable("memory.swap", "memory.swap.max")
			}
		} else if err := writeFile(m.dir, "memory.swap.max", swapVal); err != nil {
			return resourceError("memory.swap", err)
		}
	}
	if limit != 0 {
		if mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate && limit > 0 {
			usage, err := readUint(m.dir, "memory.current")
			if err != nil {
				return resourceError("memory.checkBeforeUpdate", err)
			}
			if uint64(limit) < usage {
				return fmt.Errorf("cgroup: memory.limit: new limit %d is lower than the current usage %d", limit, usage)
			}
		}
		if err := writeFile(m.dir, "memory.max", v2Bytes(limit)); err != nil {
			return resourceError("memory.limit", err)
		}
	}
	if v := mem.Reservation; v != nil && *v != 0 {
		if err := writeFile(m.dir, "memory.low", v2Bytes(*v)); err != nil {
			return resourceError("memory.reservation", err)
		}
	}
	return nil
}
