package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sharesToWeight maps v1 cpu.shares [2, 262144] linearly onto v2 cpu.weight [1, 10000],
// the conversion runc, crun and the kernel documentation agree on; 0 means "not set".
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return 1 + ((shares-2)*9999)/262142
}

// cpuMaxValue builds "quota period" for cpu.max. A missing quota or period keeps the
// current one (cur is the file's content), since cpu.max sets both at once.
func cpuMaxValue(cur string, quota *int64, period *uint64) (string, bool) {
	if (quota == nil || *quota == 0) && (period == nil || *period == 0) {
		return "", false
	}
	f := strings.Fields(cur)
	q, p := "max", "100000"
	if len(f) == 2 {
		q, p = f[0], f[1]
	}
	if quota != nil && *quota != 0 {
		if *quota < 0 {
			q = "max"
		} else {
			q = strconv.FormatInt(*quota, 10)
		}
	}
	if period != nil && *period != 0 {
		p = strconv.FormatUint(*period, 10)
	}
	return q + " " + p, true
}

func (m *v2Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if (c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0) || (c.RealtimePeriod != nil && *c.RealtimePeriod != 0) {
		return fmt.Errorf("cgroup: cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2")
	}
	weight := uint64(0)
	if c.Shares != nil {
		weight = sharesToWeight(*c.Shares)
	}
	needCPU := weight != 0 || c.Quota != nil && *c.Quota != 0 || c.Period != nil && *c.Period != 0 || c.Burst != nil || c.Idle != nil
	if !needCPU {
		return nil
	}
	if err := m.need("cpu", "cpu"); err != nil {
		return err
	}
	if weight != 0 {
		if err := writeFile(m.dir, "cpu.weight", strconv.FormatUint(weight, 10)); err != nil {
			return resourceError("cpu.shares", err)
		}
	}
	cur, _ := readFile(m.dir, "cpu.max")
	if v, ok := cpuMaxValue(cur, c.Quota, c.Period); ok {
		if err := writeFile(m.dir, "cpu.max", v); err != nil {
			return resourceError("cpu.quota", err)
		}
	}
	if c.Burst != nil {
		if !fileExists(m.dir, "cpu.max.burst") {
			return errNotAvailable("cpu.burst", "cpu.max.burst")
		}
		if err := writeFile(m.dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return resourceError("cpu.burst", err)
		}
	}
	if c.Idle != nil {
		if !fileExists(m.dir, "cpu.idle") {
			return errNotAvailable("cpu.idle", "cpu.idle")
		}
		if err := writeFile(m.dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return resourceError("cpu.idle", err)
		}
	}
	return nil
}

func (m *v2Manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || (c.Cpus == "" && c.Mems == "") {
		return nil
	}
	if err := m.need("cpu.cpus", "cpuset"); err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := writeFile(m.dir, "cpuset.cpus", c.Cpus); err != nil {
			return resourceError("cpu.cpus", err)
		}
	}
	if c.Mems != "" {
		if err := writeFile(m.dir, "cpuset.mems", c.Mems); err != nil {
			return resourceError("cpu.mems", err)
		}
	}
	return nil
}
