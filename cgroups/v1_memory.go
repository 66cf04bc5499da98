package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	memLimit   = "memory.limit_in_bytes"
	memswLimit = "memory.memsw.limit_in_bytes"
)

// setMemory applies linux.resources.memory. A limit, reservation or swap of 0 means "not
// set", as in runc; -1 means unlimited.
func (m *v1Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	dir := m.path("memory")
	if dir == "" {
		if memoryRequested(mem) {
			return fmt.Errorf("cgroup: memory: the memory controller is not mounted")
		}
		return nil
	}
	if err := checkMemoryValues(mem); err != nil {
		return err
	}
	if err := setMemoryAndSwap(dir, mem); err != nil {
		return err
	}
	if v := mem.Reservation; v != nil && *v != 0 {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(*v, 10)); err != nil {
			return resourceError("memory.reservation", err)
		}
	}
	if v := mem.Kernel; v != nil && *v != 0 {
		// Kernel memory limits were dropped from the kernel (the file vanished in 6.x, and
		// writes are ignored since 5.x); a missing file is not an error, the caller warns
		// about the deprecated field.
		if fileExists(dir, "memory.kmem.limit_in_bytes") {
			if err := writeFile(dir, "memory.kmem.limit_in_bytes", strconv.FormatInt(*v, 10)); err != nil {
				return resourceError("memory.kernel", err)
			}
		}
	}
	if v := mem.KernelTCP; v != nil && *v != 0 {
		if !fileExists(dir, "memory.kmem.tcp.limit_in_bytes") {
			return errNotAvailable("memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes")
		}
		if err := writeFile(dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(*v, 10)); err != nil {
			return resourceError("memory.kernelTCP", err)
		}
	}
	if v := mem.Swappiness; v != nil {
		if *v > 100 {
			return fmt.Errorf("cgroup: memory.swappiness: %d is not in the range 0-100", *v)
		}
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*v, 10)); err != nil {
			return resourceError("memory.swappiness", err)
		}
	}
	if v := mem.DisableOOMKiller; v != nil {
		if err := writeFile(dir, "memory.oom_control", boolDigit(*v)); err != nil {
			return resourceError("memory.disableOOMKiller", err)
		}
	}
	if v := mem.UseHierarchy; v != nil {
		// Recent kernels only accept 1; skip the write when nothing changes so that the
		// common "true" works everywhere and "false" fails only where it cannot be honoured.
		cur, err := readFile(dir, "memory.use_hierarchy")
		if err != nil {
			return resourceError("memory.useHierarchy", err)
		}
		if cur != boolDigit(*v) {
			if err := writeFile(dir, "memory.use_hierarchy", boolDigit(*v)); err != nil {
				return resourceError("memory.useHierarchy", err)
			}
		}
	}
	return nil
}

func memoryRequested(mem *specs.LinuxMemory) bool {
	nz := func(p *int64) bool { return p != nil && *p != 0 }
	return nz(mem.Limit) || nz(mem.Reservation) || nz(mem.Swap) || nz(mem.Kernel) || nz(mem.KernelTCP) ||
		mem.Swappiness != nil || mem.DisableOOMKiller != nil || mem.UseHierarchy != nil
}

// blockIORequested reports whether b asks for anything: an empty blockIO section must not
// require the blkio/io controller.
func blockIORequested(b *specs.LinuxBlockIO) bool {
	return b != nil && (b.Weight != nil || b.LeafWeight != nil || len(b.WeightDevice) > 0 ||
		len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
}

// checkMemoryValues rejects combinations the kernel would reject with a bare EINVAL.
func checkMemoryValues(mem *specs.LinuxMemory) error {
	if mem.Limit != nil && mem.Swap != nil && *mem.Limit > 0 && *mem.Swap > 0 && *mem.Swap < *mem.Limit {
		return fmt.Errorf("cgroup: memory.swap: memory+swap limit %d is lower than the memory limit %d", *mem.Swap, *mem.Limit)
	}
	for name, p := range map[string]*int64{"memory.limit": mem.Limit, "memory.swap": mem.Swap, "memory.reservation": mem.Reservation} {
		if p != nil && *p < -1 {
			return fmt.Errorf("cgroup: %s: invalid value %d", name, *p)
		}
	}
	return nil
}

// setMemoryAndSwap writes the memory and memory+swap limits. The kernel insists that
// memsw >= limit at every moment, so when memsw grows it is written first and when it
// shrinks the memory limit is written first.
func setMemoryAndSwap(dir string, mem *specs.LinuxMemory) error {
	var limit, swap int64
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	// An unlimited memory limit with no swap setting lifts the memsw limit too, otherwise
	// the old memsw value would silently keep capping memory.
	if limit == -1 && swap == 0 && fileExists(dir, memswLimit) {
		swap = -1
	}
	if limit != 0 && mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate && limit > 0 {
		usage, err := readUint(dir, "memory.usage_in_bytes")
		if err != nil {
			return resourceError("memory.checkBeforeUpdate", err)
		}
		if uint64(limit) < usage {
			return fmt.Errorf("cgroup: memory.limit: new limit %d is lower than the current usage %d", limit, usage)
		}
	}
	writeLimit := func() error {
		if limit == 0 {
			return nil
		}
		if err := writeFile(dir, memLimit, strconv.FormatInt(limit, 10)); err != nil {
			return resourceError("memory.limit", err)
		}
		return nil
	}
	if swap == 0 {
		return writeLimit()
	}
	if !fileExists(dir, memswLimit) {
		// Without swap accounting memory+swap is already unlimited.
		if swap == -1 {
			return writeLimit()
		}
		return errNotAvailable("memory.swap", memswLimit)
	}
	writeSwap := func() error {
		if err := writeFile(dir, memswLimit, strconv.FormatInt(swap, 10)); err != nil {
			return resourceError("memory.swap", err)
		}
		return nil
	}
	cur, err := readUint(dir, memswLimit)
	if err != nil {
		return resourceError("memory.swap", err)
	}
	if swap == -1 || uint64(swap) > cur {
		if err := writeSwap(); err != nil {
			return err
		}
		return writeLimit()
	}
	if err := writeLimit(); err != nil {
		return err
	}
	return writeSwap()
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
