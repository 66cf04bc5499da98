package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func (m *v2Manager) Stats() (*Stats, error) {
	s := newStats()
	// cpu.stat exists in every cgroup2 directory (usage is core accounting); the
	// throttling counters only with the cpu controller.
	kv, err := readKeyValues(m.dir, "cpu.stat")
	if err != nil {
		return nil, fmt.Errorf("cgroup: stats: %w", err)
	}
	s.CPU.Usage.Total = kv["usage_usec"] * 1000
	s.CPU.Usage.User = kv["user_usec"] * 1000
	s.CPU.Usage.Kernel = kv["system_usec"] * 1000
	s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_usec"] * 1000}

	if v, err := readFile(m.dir, "cpuset.cpus.effective"); err == nil {
		s.CPUSet.CPUs, _ = parseCPUList(v)
	}
	if v, err := readFile(m.dir, "cpuset.mems.effective"); err == nil {
		s.CPUSet.Mems, _ = parseCPUList(v)
	}
	if err := v2MemoryStats(m.dir, s); err != nil {
		return nil, err
	}
	if cur, err := readUint(m.dir, "pids.current"); err == nil {
		s.Pids.Current = cur
		if lim, err := readUint(m.dir, "pids.max"); err == nil && lim != ^uint64(0) {
			s.Pids.Limit = lim
		}
	}
	if b, err := os.ReadFile(filepath.Join(m.dir, "io.stat")); err == nil {
		s.Blkio.IoServiceBytesRecursive, s.Blkio.IoServicedRecursive = parseIOStat(string(b))
	}
	v2HugetlbStats(m.dir, s)
	return s, nil
}

// v2MemoryStats fills the v1-shaped memory stats. Like runc, "swap" reports memory+swap so
// that consumers written for v1 keep working.
func v2MemoryStats(dir string, s *Stats) error {
	cur, err := readUint(dir, "memory.current")
	if err != nil {
		if os.IsNotExist(err) {
			return nil // memory controller not enabled here
		}
		return fmt.Errorf("cgroup: stats: %w", err)
	}
	raw, err := readKeyValues(dir, "memory.stat")
	if err != nil {
		return fmt.Errorf("cgroup: stats: %w", err)
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["file"]
	s.Memory.Usage.Usage = cur
	s.Memory.Usage.Limit, _ = readUint(dir, "memory.max")
	s.Memory.Usage.Max, _ = readUint(dir, "memory.peak")
	if ev, err := readKeyValues(dir, "memory.events"); err == nil {
		s.Memory.Usage.Failcnt = ev["max"]
	}
	if sw, err := readUint(dir, "memory.swap.current"); err == nil {
		s.Memory.Swap.Usage = cur + sw
		s.Memory.Swap.Limit, _ = readUint(dir, "memory.swap.max")
		if s.Memory.Swap.Limit != ^uint64(0) && s.Memory.Usage.Limit != ^uint64(0) {
			s.Memory.Swap.Limit += s.Memory.Usage.Limit
		} else {
			s.Memory.Swap.Limit = ^uint64(0)
		}
		if peak, err := readUint(dir, "memory.swap.peak"); err == nil {
			s.Memory.Swap.Max = s.Memory.Usage.Max + peak
		}
		if ev, err := readKeyValues(dir, "memory.swap.events"); err == nil {
			s.Memory.Swap.Failcnt = ev["fail"]
		}
	}
	return nil
}

// parseIOStat turns io.stat lines ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0")
// into v1-style Read/Write entries for bytes and operations.
func parseIOStat(s string) (bytes, ios []BlkioEntry) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		maj, min, ok := parseDevNum(f[0])
		if !ok {
			continue
		}
		for _, kv := range f[1:] {
			k, vS, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			v, err := strconv.ParseUint(vS, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: maj, Minor: min, Value: v}
			switch k {
			case "rbytes":
				e.Op = "Read"
				bytes = append(bytes, e)
			case "wbytes":
				e.Op = "Write"
				bytes = append(bytes, e)
			case "rios":
				e.Op = "Read"
				ios = append(ios, e)
			case "wios":
				e.Op = "Write"
				ios = append(ios, e)
			}
		}
	}
	return bytes, ios
}
