package engines

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// waitMS sleeps unless the scenario's context ends first.
func waitMS(t *harness.T, ms int) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-t.Ctx.Done():
	}
}

// hostCgroupValue reads a cgroup file of process pid from the host side:
// the v1 file in the hierarchy holding controller ctl, or else the v2 file
// in the unified hierarchy. An empty v2 name means "v1 only".
func hostCgroupValue(pid, ctl, v1, v2 string) (string, error) {
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == ctl {
				b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", parts[1], parts[2], v1))
				if err != nil {
					return "", fmt.Errorf("host cgroup file: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			}
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(l, "0::") && v2 != "" {
			b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(l, "0::"), v2))
			if err != nil {
				return "", fmt.Errorf("host cgroup file: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	if v2 == "" {
		return "", nil
	}
	return "", fmt.Errorf("pid %s: no cgroup with controller %s in %q", pid, ctl, data)
}

// limitsWant is what the limits scenarios ask of ctr and CRI: 64 MiB memory, half a CPU,
// 512 CPU shares.
var limitsWant = []cgroupWant{
	{"memory", "memory.limit_in_bytes", "memory.max", "67108864"},
	{"cpu", "cpu.cfs_quota_us", "cpu.max", "50000"},
	{"cpu", "cpu.shares", "", "512"},
}

// cgroupWant is a value expected in a container's cgroup: controller ctl's v1 file, or the v2
// file ("" when v1 only). A v2 value may carry more after a space (cpu.max: "50000 100000").
type cgroupWant struct{ ctl, v1, v2, want string }

// expectCgroup checks each want against process pid's cgroups (hostCgroupValue); a v1-only
// value on a v2 host is skipped. Values read go to log.
func expectCgroup(log io.Writer, pid string, wants []cgroupWant) error {
	for _, c := range wants {
		got, err := hostCgroupValue(pid, c.ctl, c.v1, c.v2)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "%s/%s = %s\n", c.ctl, c.v1, got)
		if c.v2 == "" && got == "" {
			continue
		}
		if got != c.want && !strings.HasPrefix(got, c.want+" ") {
			return fmt.Errorf("%s: %s, want %s", c.v1, got, c.want)
		}
	}
	return nil
}
