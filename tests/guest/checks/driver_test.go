package checks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/cgroups"
	"github.com/runo-dev/runo/tests/testbundle"
)

// The cgroups package's own v1 effect tests skip on a pure v2 host; these are
// their v2 counterparts, through the package's exported API.

// driverManager returns a v2 manager for "/runo-test-<rand>/c", removed (with
// any process left in it) when the test ends.
func driverManager(t *testing.T) (cgroups.Manager, string) {
	t.Helper()
	requireV2(t)
	parent := "/runo-test-" + testbundle.RandHex(4)
	path := parent + "/c"
	m, err := cgroups.New(cgroups.Config{Path: path, ContainerID: "c"})
	if err != nil {
		t.Fatalf("cgroups.New: %v", err)
	}
	if !m.Unified() {
		t.Fatalf("New on a pure cgroup v2 host returned a manager with Unified() = false")
	}
	t.Cleanup(func() {
		_ = m.Kill(9)
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		testbundle.RemoveCgroupTree(t, parent)
	})
	return m, path
}

func TestDriverV2SetReadBack(t *testing.T) {
	tests := []struct {
		name  string
		res   specs.LinuxResources
		file  string
		want  string
		needs string // a file that must exist in the cgroup, else the kernel lacks the feature
	}{
		{"memory limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}}, "memory.max", "67108864", ""},
		{"memory reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr(int64(32 << 20))}}, "memory.low", "33554432", ""},
		{"memory+swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Swap: ptr(int64(96 << 20))}}, "memory.swap.max", "33554432", "memory.swap.max"},
		{"memory unlimited", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}}, "memory.max", "max", ""},
		{"pids limit", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(42))}}, "pids.max", "42", ""},
		{"pids unlimited", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}}, "pids.max", "max", ""},
		{"cpu shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(512))}}, "cpu.weight", "20", ""},
		{"cpu quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(200000))}}, "cpu.max", "50000 200000", ""},
		{"cpu burst", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Burst: ptr(uint64(20000))}}, "cpu.max.burst", "20000", "cpu.max.burst"},
		{"cpu idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr(int64(1))}}, "cpu.idle", "1", "cpu.idle"},
		{"cpuset", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}}, "cpuset.cpus", "0", ""},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "50331648"}}, "memory.high", "50331648", ""},
		{"io weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500))}}, "io.bfq.weight", "default 500", "io.bfq.weight"},
		{"hugetlb", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}, "hugetlb.2MB.max", "4194304", "hugetlb.2MB.max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, path := driverManager(t)
			if err := m.Create(); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if tc.needs != "" {
				if _, err := os.Stat(filepath.Join(cgroupRoot, path, tc.needs)); err != nil {
					t.Skipf("kernel has no %s: %v", tc.needs, err)
				}
			}
			res := tc.res
			if err := m.Set(&res); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got := cgFile(t, path, tc.file); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.file, got, tc.want)
			}
		})
	}
}

func TestDriverV2PidsLimit(t *testing.T) {
	for _, tc := range []struct {
		limit    int64
		wantFork bool
	}{{1, false}, {4, true}, {-1, true}} {
		t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
			m, _ := driverManager(t)
			if err := m.Create(); err != nil {
				t.Fatalf("Create: %v", err)
			}
			p := startHeld(t, "if /bin/true; then echo forked; else echo nofork; fi")
			if err := m.Apply(p.cmd.Process.Pid); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(tc.limit)}}); err != nil {
				t.Fatalf("Set: %v", err)
			}
			p.release(t)
			p.wait(t, 30*time.Second)
			if got := strings.Contains(p.out.String(), "forked"); got != tc.wantFork {
				t.Errorf("pids limit %d: forked=%v, want %v; output %q", tc.limit, got, tc.wantFork, p.out.String())
			}
		})
	}
}

func TestDriverV2MemoryOOM(t *testing.T) {
	m, path := driverManager(t)
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The shell itself is the hog: the OOM killer can only pick it.
	p := startHeld(t, `s=x; while :; do s="$s$s"; done`)
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(16 << 20)), Swap: ptr(int64(16 << 20))}}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	p.release(t)
	if code := p.wait(t, 60*time.Second); code != -9 {
		t.Errorf("memory hog ended with %d, want killed by SIGKILL (-9)", code)
	}
	if n, _ := keyValue(cgFile(t, path, "memory.events"), "oom_kill"); n < 1 {
		t.Errorf("memory.events oom_kill = %d, want >= 1", n)
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Memory.Usage.Limit != 16<<20 {
		t.Errorf("Stats memory limit = %d, want %d", st.Memory.Usage.Limit, 16<<20)
	}
	if st.Memory.Usage.Max < 8<<20 {
		t.Errorf("Stats memory max usage = %d, want the hog's peak (>= 8 MiB)", st.Memory.Usage.Max)
	}
}

// TestDriverV2ExistingParentDelegation: Create under a parent that someone else
// made (nothing in its subtree_control) must still give the container cgroup
// the controllers, as runc's fs2 driver does (best effort, every ancestor).
func TestDriverV2ExistingParentDelegation(t *testing.T) {
	requireV2(t)
	parent := "/runo-test-" + testbundle.RandHex(4)
	if err := os.Mkdir(filepath.Join(cgroupRoot, parent), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testbundle.RemoveCgroupTree(t, parent) })
	m, err := cgroups.New(cgroups.Config{Path: parent + "/c", ContainerID: "c"})
	if err != nil {
		t.Fatalf("cgroups.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got := cgFile(t, parent+"/c", "cgroup.controllers")
	for _, c := range []string{"cpu", "io", "memory", "pids"} {
		if !strings.Contains(" "+got+" ", " "+c+" ") {
			t.Errorf("controller %s not delegated to %s/c (its cgroup.controllers: %q)", c, parent, got)
		}
	}
}
