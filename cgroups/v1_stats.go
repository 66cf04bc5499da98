package cgroups

import (
	"fmt"
	"os"
	"strings"
)

// userHZ is the unit of cpuacct.stat; the kernel ABI fixes it at 100 on every architecture.
const userHZ = 100

func (m *v1Manager) Stats() (*Stats, error) {
	s := newStats()
	if dir := m.path("cpuacct"); dir != "" {
		if err := v1CPUAcctStats(dir, s); err != nil {
			return nil, err
		}
	}
	if dir := m.path("cpu"); dir != "" {
		if kv, err := readKeyValues(dir, "cpu.stat"); err == nil {
			s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_time"]}
		} else {
			return nil, fmt.Errorf("cgroup: stats: %w", err)
		}
	}
	if dir := m.path("cpuset"); dir != "" {
		if v, err := readFile(dir, "cpuset.cpus"); err == nil {
			s.CPUSet.CPUs, _ = parseCPUList(v)
		}
		if v, err := readFile(dir, "cpuset.mems"); err == nil {
			s.CPUSet.Mems, _ = parseCPUList(v)
		}
	}
	if dir := m.path("memory"); dir != "" {
		if err := v1MemoryStats(dir, s); err != nil {
			return nil, err
		}
	}
	if dir := m.path("pids"); dir != "" {
		cur, err := readUint(dir, "pids.current")
		if err != nil {
			return nil, fmt.Errorf("cgroup: stats: %w", err)
		}
		s.Pids.Current = cur
		if lim, err := readUint(dir, "pids.max"); err == nil && lim != ^uint64(0) {
			s.Pids.Limit = lim
		}
	}
	if dir := m.path("blkio"); dir != "" {
		v1BlkioStats(dir, s)
	}
	m.hugetlbStats(s)
	return s, nil
}

func v1CPUAcctStats(dir string, s *Stats) error {
	total, err := readUint(dir, "cpuacct.usage")
	if err != nil {
		return fmt.Errorf("cgroup: stats: %w", err)
	}
	s.CPU.Usage.Total = total
	if v, err := readFile(dir, "cpuacct.usage_percpu"); err == nil {
		for _, f := range strings.Fields(v) {
			n, err := parseUint(f)
			if err != nil {
				return fmt.Errorf("cgroup: stats: cpuacct.usage_percpu: %w", err)
			}
			s.CPU.Usage.Percpu = append(s.CPU.Usage.Percpu, n)
		}
	}
	// usage_user/usage_sys are in nanoseconds; older kernels only have the tick counts.
	u, errU := readUint(dir, "cpuacct.usage_user")
	k, errK := readUint(dir, "cpuacct.usage_sys")
	if errU == nil && errK == nil {
		s.CPU.Usage.User, s.CPU.Usage.Kernel = u, k
		return nil
	}
	kv, err := readKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return fmt.Errorf("cgroup: stats: %w", err)
	}
	s.CPU.Usage.User = kv["user"] * (1e9 / userHZ)
	s.CPU.Usage.Kernel = kv["system"] * (1e9 / userHZ)
	return nil
}

func v1MemoryEntry(dir, prefix string) (MemoryEntry, bool) {
	var e MemoryEntry
	usage, err := readUint(dir, prefix+"usage_in_bytes")
	if err != nil {
		return e, false
	}
	e.Usage = usage
	e.Max, _ = readUint(dir, prefix+"max_usage_in_bytes")
	e.Failcnt, _ = readUint(dir, prefix+"failcnt")
	e.Limit, _ = readUint(dir, prefix+"limit_in_bytes")
	return e, true
}

func v1MemoryStats(dir string, s *Stats) error {
	raw, err := readKeyValues(dir, "memory.stat")
	if err != nil {
		return fmt.Errorf("cgroup: stats: %w", err)
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["cache"]
	var ok bool
	if s.Memory.Usage, ok = v1MemoryEntry(dir, "memory."); !ok {
		return fmt.Errorf("cgroup: stats: cannot read %s/memory.usage_in_bytes", dir)
	}
	s.Memory.Swap, _ = v1MemoryEntry(dir, "memory.memsw.")
	s.Memory.Kernel, _ = v1MemoryEntry(dir, "memory.kmem.")
	s.Memory.KernelTCP, _ = v1MemoryEntry(dir, "memory.kmem.tcp.")
	return nil
}

// v1BlkioStats prefers the proportional-weight scheduler's counters (CFQ, then BFQ), and
// falls back to the throttling layer's, which exist whatever the scheduler.
func v1BlkioStats(dir string, s *Stats) {
	read := func(name string) []BlkioEntry {
		for _, prefix := range []string{"blkio.", "blkio.bfq.", "blkio.throttle."} {
			b, err := os.ReadFile(dir + "/" + prefix + name)
			if err == nil {
				return parseBlkioEntries(string(b))
			}
		}
		return nil
	}
	s.Blkio.IoServiceBytesRecursive = read("io_service_bytes_recursive")
	s.Blkio.IoServicedRecursive = read("io_serviced_recursive")
	s.Blkio.IoQueuedRecursive = read("io_queued_recursive")
	s.Blkio.IoServiceTimeRecursive = read("io_service_time_recursive")
	s.Blkio.IoWaitTimeRecursive = read("io_wait_time_recursive")
	s.Blkio.IoMergedRecursive = read("io_merged_recursive")
	s.Blkio.IoTimeRecursive = read("time_recursive")
	s.Blkio.SectorsRecursive = read("sectors_recursive")
}

func (m *v1Manager) hugetlbStats(s *Stats) {
	if dir := m.path("hugetlb"); dir != "" {
		for _, size := range hugePageSizes() {
			p := "hugetlb." + size + "."
			usage, err := readUint(dir, p+"usage_in_bytes")
			if err != nil {
				continue
			}
			e := HugetlbStats{Usage: usage}
			e.Max, _ = readUint(dir, p+"max_usage_in_bytes")
			e.Failcnt, _ = readUint(dir, p+"failcnt")
			s.Hugetlb[size] = e
		}
		return
	}
	if m.unified != "" {
		v2HugetlbStats(m.unified, s)
	}
}

// v2HugetlbStats reads hugetlb.<size>.current and the "max" event count (allocations that
// failed because of the limit, the v2 equivalent of failcnt).
func v2HugetlbStats(dir string, s *Stats) {
	for _, size := range hugePageSizes() {
		p := "hugetlb." + size + "."
		usage, err := readUint(dir, p+"current")
		if err != nil {
			continue
		}
		e := HugetlbStats{Usage: usage}
		if ev, err := readKeyValues(dir, p+"events"); err == nil {
			e.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = e
	}
}
