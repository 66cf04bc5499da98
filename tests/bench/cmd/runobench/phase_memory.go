package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memoryLadder are the limits tried, smallest first.
var memoryLadder = []int64{256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20}

// phaseMinMemory finds, per runtime, the smallest linux.resources.memory.limit
// at which a foreground `run` of /bin/true exits 0. Each rung is tried once,
// runtimes alternating.
func (b *bench) phaseMinMemory(ctx context.Context) *metric {
	m := newMetric("min_mem", "min memory limit for run", "KiB", false, true,
		"smallest of 256K,512K,1M,2M,4M,8M (linux.resources.memory.limit) at which `run /bin/true` succeeds; one try per rung")
	found := map[string]bool{}
	lastErr := map[string]error{}
	for _, limit := range memoryLadder {
		if ctx.Err() != nil {
			break
		}
		for _, rt := range b.rts {
			if found[rt.Name] {
				continue
			}
			c, err := b.newContainer(rt, containerSpec{args: trueArgs, memoryLimit: limit})
			if err != nil {
				lastErr[rt.Name] = err
				continue
			}
			s := b.x.run(ctx, rt.argv("run", "--bundle", c.bundle, c.id)...)
			b.discard(ctx, c)
			if s.err == nil {
				found[rt.Name] = true
				m.of(rt.Name).add(float64(limit>>10), nil)
				fmt.Fprintf(os.Stderr, "  %s: ok at %d KiB\n", rt.Name, limit>>10)
				continue
			}
			lastErr[rt.Name] = s.err
		}
	}
	for _, rt := range b.rts {
		if !found[rt.Name] {
			st := m.of(rt.Name)
			st.NA = fmt.Sprintf("> %d KiB", memoryLadder[len(memoryLadder)-1]>>10)
			if e := lastErr[rt.Name]; e != nil {
				st.FirstError = e.Error()
			}
		}
	}
	return m
}

// phaseLimitReadBack creates (without starting) one container per runtime
// with the limit at which its `run` succeeded and reads that limit back from
// the cgroup, so a runtime that silently drops the limit cannot look good in
// the min-limit row.
func (b *bench) phaseLimitReadBack(ctx context.Context, minLimit *metric) *metric {
	m := newMetric("mem_readback", "limit in cgroup at that min", "KiB", false, false,
		"memory limit found in the container cgroup after `create` with the min limit found above (v1 memory.limit_in_bytes, v2 memory.max)")
	for _, rt := range b.rts {
		found := minLimit.of(rt.Name)
		if len(found.Samples) == 0 {
			m.of(rt.Name).NA = "no min limit found"
			continue
		}
		limit := int64(found.Samples[0]) << 10
		c, err := b.newContainer(rt, containerSpec{args: trueArgs, memoryLimit: limit})
		if err != nil {
			m.of(rt.Name).add(0, err)
			continue
		}
		s := b.x.run(ctx, rt.argv("create", "--bundle", c.bundle, c.id)...)
		var v int64
		if s.err == nil {
			v, s.err = readInt(b.cg.memoryLimitFile(c.cgPath))
		}
		m.of(rt.Name).add(float64(v)/1024, s.err)
		b.discard(ctx, c)
	}
	return m
}

// phasePeakMemory reads the container cgroup's memory high-water mark
// (v1 memory.max_usage_in_bytes, v2 memory.peak) after /bin/true exited and
// before delete: what the runtime's init and the container charged there.
func (b *bench) phasePeakMemory(ctx context.Context) *metric {
	m := newMetric("peak_mem", "cgroup peak memory", "KiB", true, true,
		"container cgroup memory high-water mark after /bin/true exited, read before delete")
	for i := 0; i < b.cfg.MemSamples && ctx.Err() == nil; i++ {
		for _, rt := range b.rts {
			var peak int64
			s := b.createStartDelete(ctx, rt, func(c *container) error {
				v, err := readInt(b.cg.peakMemoryFile(c.cgPath))
				peak = v
				return err
			})
			m.of(rt.Name).add(float64(peak)/1024, s.err)
		}
	}
	return m
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, nil
}
