package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "path to a file containing the resources to update or '-' to read from the standard input"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "Specifies per cgroup weight, range is from 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight vs. other containers)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "Memory node(s) to use"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "(obsoleted; do not use)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "(obsoleted; do not use)"},
		&cli.StringFlag{Name: "memory", Usage: "Memory limit (in bytes)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "Memory reservation or soft_limit (in bytes)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "Total memory usage (memory + swap); set '-1' to enable unlimited swap"},
		&cli.IntFlag{Name: "pids-limit", Usage: "Maximum number of pids allowed in the container"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "not supported"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "not supported"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		var fromFile *specs.LinuxResources
		if path := c.String("resources"); path != "" {
			r, err := readResources(path)
			if err != nil {
				return err
			}
			fromFile = r
		}
		for _, f := range []string{"l3-cache-schema", "mem-bw-schema"} {
			if c.IsSet(f) {
				return fmt.Errorf("--%s: Intel RDT is not supported", f)
			}
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		return ct.Update(func(r *specs.LinuxResources) error {
			if fromFile != nil {
				mergeResources(r, fromFile)
			}
			return applyUpdateFlags(c, r)
		})
	},
}

func readResources(path string) (*specs.LinuxResources, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	var r specs.LinuxResources
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		return nil, fmt.Errorf("--resources: decode LinuxResources JSON: %w", err)
	}
	return &r, nil
}

// mergeResources overlays the sections given in the update onto the current resources, as
// containerd's shim expects: what it sends replaces, what it omits stays.
func mergeResources(dst, src *specs.LinuxResources) {
	if src.Memory != nil {
		dst.Memory = src.Memory
	}
	if src.CPU != nil {
		dst.CPU = src.CPU
	}
	if src.Pids != nil {
		dst.Pids = src.Pids
	}
	if src.BlockIO != nil {
		dst.BlockIO = src.BlockIO
	}
	if src.HugepageLimits != nil {
		dst.HugepageLimits = src.HugepageLimits
	}
	if src.Network != nil {
		dst.Network = src.Network
	}
	if src.Rdma != nil {
		dst.Rdma = src.Rdma
	}
	if src.Unified != nil {
		dst.Unified = src.Unified
	}
	if src.Devices != nil {
		dst.Devices = src.Devices
	}
}

func applyUpdateFlags(c *cli.Context, r *specs.LinuxResources) error {
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	sizes := []flagSetter[int64]{
		{"memory", func(v int64) { mem().Limit = &v }},
		{"memory-reservation", func(v int64) { mem().Reservation = &v }},
		{"memory-swap", func(v int64) { mem().Swap = &v }},
		{"kernel-memory", func(v int64) { mem().Kernel = &v }},
		{"kernel-memory-tcp", func(v int64) { mem().KernelTCP = &v }},
	}
	uints := []flagSetter[uint64]{
		{"cpu-period", func(v uint64) { cpu().Period = &v }},
		{"cpu-share", func(v uint64) { cpu().Shares = &v }},
		{"cpu-rt-period", func(v uint64) { cpu().RealtimePeriod = &v }},
	}
	// The spec's weight is 16 bits: a wider value must be refused, not wrapped (65546
	// would become 10).
	weights := []flagSetter[uint16]{
		{"blkio-weight", func(v uint16) {
			if r.BlockIO == nil {
				r.BlockIO = &specs.LinuxBlockIO{}
			}
			r.BlockIO.Weight = &v
		}},
	}
	ints := []flagSetter[int64]{
		{"cpu-quota", func(v int64) { cpu().Quota = &v }},
		{"cpu-rt-runtime", func(v int64) { cpu().RealtimeRuntime = &v }},
		{"cpu-idle", func(v int64) { cpu().Idle = &v }},
	}
	parseUint := func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
	parseInt := func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
	parseUint16 := func(s string) (uint16, error) {
		v, err := strconv.ParseUint(s, 10, 16)
		return uint16(v), err
	}
	if err := applyFlags(c, parseSize, sizes); err != nil {
		return err
	}
	if err := applyFlags(c, parseUint, uints); err != nil {
		return err
	}
	if err := applyFlags(c, parseInt, ints); err != nil {
		return err
	}
	if err := applyFlags(c, parseUint16, weights); err != nil {
		return err
	}
	if c.IsSet("cpuset-cpus") {
		cpu().Cpus = c.String("cpuset-cpus")
	}
	if c.IsSet("cpuset-mems") {
		cpu().Mems = c.String("cpuset-mems")
	}
	if c.IsSet("pids-limit") {
		v := int64(c.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &v}
	}
	return nil
}

// flagSetter stores one update flag's parsed value into the resources.
type flagSetter[T any] struct {
	flag string
	set  func(T)
}

// applyFlags parses each flag that was given and stores it.
func applyFlags[T any](c *cli.Context, parse func(string) (T, error), setters []flagSetter[T]) error {
	for _, s := range setters {
		if !c.IsSet(s.flag) {
			continue
		}
		v, err := parse(c.String(s.flag))
		if err != nil {
			return fmt.Errorf("--%s: %q is not a valid value: %w", s.flag, c.String(s.flag), err)
		}
		s.set(v)
	}
	return nil
}

// parseSize reads a byte count with an optional binary suffix (k, m, g, t; "100m"), or -1.
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1<<10, t[:n-1]
		case 'm':
			mult, t = 1<<20, t[:n-1]
		case 'g':
			mult, t = 1<<30, t[:n-1]
		case 't':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(v * float64(mult)), nil
}
