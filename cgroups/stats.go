package cgroups

// The Stats types serialise to the JSON shape of the "data" object of `runc events --stats`,
// so tools that parse runc's output parse runo's.

// Stats holds one sample of a container's cgroup counters.
type Stats struct {
	CPU     CPUStats                `json:"cpu"`
	CPUSet  CPUSetStats             `json:"cpuset"`
	Memory  MemoryStats             `json:"memory"`
	Pids    PidsStats               `json:"pids"`
	Blkio   BlkioStats              `json:"blkio"`
	Hugetlb map[string]HugetlbStats `json:"hugetlb"`
}

// CPUUsage times are in nanoseconds.
type CPUUsage struct {
	Total  uint64   `json:"total,omitempty"`
	Percpu []uint64 `json:"percpu,omitempty"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
}

// Throttling counts CFS bandwidth periods; ThrottledTime is in nanoseconds.
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type CPUStats struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUSetStats lists the cpus and memory nodes the cgroup may use.
type CPUSetStats struct {
	CPUs []uint16 `json:"cpus,omitempty"`
	Mems []uint16 `json:"mems,omitempty"`
}

// MemoryEntry is one memory counter family. Limit is the maximum uint64 when unlimited.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type MemoryStats struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// BlkioEntry is one "major:minor op value" counter.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type BlkioStats struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
}

// HugetlbStats is keyed by page size ("2MB") in Stats.Hugetlb.
type HugetlbStats struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

func newStats() *Stats {
	return &Stats{Hugetlb: make(map[string]HugetlbStats), Memory: MemoryStats{Raw: make(map[string]uint64)}}
}
