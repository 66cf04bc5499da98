package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

func ptr[T any](v T) *T { return &v }

// TestCgroupV1Limits creates a container with resources and reads the v1
// files under its cgroupsPath from the host.
func TestCgroupV1Limits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		resources  specs.LinuxResources
		controller string
		file       string
		want       string
	}{
		{"memory limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}}, "memory", "memory.limit_in_bytes", "67108864"},
		{"memory reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr(int64(32 << 20))}}, "memory", "memory.soft_limit_in_bytes", "33554432"},
		{"pids limit", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(42))}}, "pids", "pids.max", "42"},
		{"cpu shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(512))}}, "cpu", "cpu.shares", "512"},
		{"cpu quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(100000))}}, "cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu period", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(200000))}}, "cpu", "cpu.cfs_period_us", "200000"},
		{"cpuset cpus", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, "cpuset", "cpuset.cpus", "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := testbundle.V1Path(tc.controller, "/")
			if dir == "" {
				t.Skipf("cgroup v1 %s controller not mounted on this host", tc.controller)
			}
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			b.Mutate(func(s *specs.Spec) {
				res := tc.resources
				res.Devices = s.Linux.Resources.Devices
				s.Linux.Resources = &res
			})
			b.MustCreate()
			st := b.MustStatus(specs.StateCreated)
			cg := testbundle.V1Path(tc.controller, b.CgroupPath())
			got, err := os.ReadFile(filepath.Join(cg, tc.file))
			if err != nil {
				t.Fatalf("read %s: %v", tc.file, err)
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("%s = %q, want %q", tc.file, strings.TrimSpace(string(got)), tc.want)
			}
			procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			if !strings.Contains(" "+strings.Join(strings.Fields(string(procs)), " ")+" ", " "+itoa(st.Pid)+" ") {
				t.Errorf("init pid %d not in %s/cgroup.procs: %q", st.Pid, cg, procs)
			}
		})
	}
}

// TestPidsLimitStopsForkBomb: a bounded fork loop inside a pids-limited
// container hits the limit; the shell reports fork failures.
func TestPidsLimitStopsForkBomb(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("pids", "/") == "" {
		t.Skip("cgroup v1 pids controller not mounted on this host")
	}
	const limit = 8
	b := testbundle.New(t)
	b.Mutate(func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(limit))}
		s.Process.Args = sh("grep :pids: /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max 2>&1; n=0; for i in $(seq 1 40); do sleep 30 & n=$((n+1)); done; echo started $n; echo pids.current $(cat /sys/fs/cgroup/pids/pids.current); echo ps $(ps | wc -l)")
	})
	r := b.Run()
	if r.ExitCode == 0 && strings.Contains(r.Stdout, "started 40") {
		pidsMax, _ := os.ReadFile(filepath.Join(testbundle.V1Path("pids", b.CgroupPath()), "pids.max"))
		t.Fatalf("40 background processes started under pids.max=%d (host %s/pids.max: %q)\n%s",
			limit, b.CgroupPath(), pidsMax, r.Stdout+r.Stderr)
	}
	assertMentions(t, r.Stderr, "fork")
}
