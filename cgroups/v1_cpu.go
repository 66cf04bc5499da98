package cgroups

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setCPU applies the cpu controller part of linux.resources.cpu. Quota 0 means "not set",
// as in runc; -1 removes the limit.
func (m *v1Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	dir := m.path("cpu")
	if dir == "" {
		if c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil ||
			c.RealtimeRuntime != nil || c.RealtimePeriod != nil || c.Idle != nil {
			return fmt.Errorf("cgroup: cpu: the cpu controller is not mounted")
		}
		return nil
	}
	if v := c.Shares; v != nil && *v != 0 {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(*v, 10)); err != nil {
			return resourceError("cpu.shares", err)
		}
		// The kernel clamps out-of-range shares silently; report it instead of running
		// the container with a weight nobody asked for.
		got, err := readUint(dir, "cpu.shares")
		if err != nil {
			return resourceError("cpu.shares", err)
		}
		if got != *v {
			return fmt.Errorf("cgroup: cpu.shares: the kernel accepted %d instead of %d (out of range)", got, *v)
		}
	}
	if err := setCFS(dir, c); err != nil {
		return err
	}
	if v := c.RealtimePeriod; v != nil && *v != 0 {
		if !fileExists(dir, "cpu.rt_period_us") {
			return errNotAvailable("cpu.realtimePeriod", "cpu.rt_period_us")
		}
		if err := writeFile(dir, "cpu.rt_period_us", strconv.FormatUint(*v, 10)); err != nil {
			return resourceError("cpu.realtimePeriod", err)
		}
	}
	if v := c.RealtimeRuntime; v != nil && *v != 0 {
		if !fileExists(dir, "cpu.rt_runtime_us") {
			return errNotAvailable("cpu.realtimeRuntime", "cpu.rt_runtime_us")
		}
		if err := writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(*v, 10)); err != nil {
			return resourceError("cpu.realtimeRuntime", err)
		}
	}
	if v := c.Idle; v != nil {
		if !fileExists(dir, "cpu.idle") {
			return errNotAvailable("cpu.idle", "cpu.idle")
		}
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*v, 10)); err != nil {
			return resourceError("cpu.idle", err)
		}
	}
	return nil
}

// setCFS writes period, quota and burst. The kernel checks each against the current values
// of the others (burst <= quota, quota >= 1ms for the period), so when an order fails with
// EINVAL the reverse order is tried: going from one consistent triple to another always
// succeeds in one of the two.
func setCFS(dir string, c *specs.LinuxCPU) error {
	var writes []func() error
	if v := c.Burst; v != nil {
		if !fileExists(dir, "cpu.cfs_burst_us") {
			return errNotAvailable("cpu.burst", "cpu.cfs_burst_us")
		}
		writes = append(writes, func() error {
			if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*v, 10)); err != nil {
				return resourceError("cpu.burst", err)
			}
			return nil
		})
	}
	if v := c.Period; v != nil && *v != 0 {
		writes = append(writes, func() error {
			if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(*v, 10)); err != nil {
				return resourceError("cpu.period", err)
			}
			return nil
		})
	}
	if v := c.Quota; v != nil && *v != 0 {
		writes = append(writes, func() error {
			if err := writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(*v, 10)); err != nil {
				return resourceError("cpu.quota", err)
			}
			return nil
		})
	}
	err := runAll(writes)
	if err != nil && len(writes) > 1 && errors.Is(err, unix.EINVAL) {
		slices.Reverse(writes)
		err = runAll(writes)
	}
	return err
}

func runAll(fns []func() error) error {
	for _, f := range fns {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// setCpuset applies cpus and mems of linux.resources.cpu.
func (m *v1Manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || (c.Cpus == "" && c.Mems == "") {
		return nil
	}
	dir := m.path("cpuset")
	if dir == "" {
		return fmt.Errorf("cgroup: cpu.cpus: the cpuset controller is not mounted")
	}
	if c.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", c.Cpus); err != nil {
			return resourceError("cpu.cpus", err)
		}
	}
	if c.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", c.Mems); err != nil {
			return resourceError("cpu.mems", err)
		}
	}
	return nil
}
