package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v1TestManager returns a real manager on a v1/hybrid host.
func v1TestManager(t *testing.T) (*v1Manager, string) {
	t.Helper()
	requireRoot(t)
	l, err := detectLayout()
	if err != nil {
		t.Fatalf("detectLayout: %v", err)
	}
	if l.Mode == modeUnified {
		t.Skip("host is pure cgroup v2; the v1 driver cannot run here")
	}
	m, parent := testManager(t)
	return m.(*v1Manager), parent
}

func TestV1CreateApplyDestroy(t *testing.T) {
	m, parent := v1TestManager(t)
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := m.Create(); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	paths := m.Paths()
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer", "devices"} {
		p, ok := paths[ctrl]
		if !ok {
			t.Fatalf("Paths lacks %s: %v", ctrl, paths)
		}
		if !strings.HasSuffix(p, parent+"/c") {
			t.Errorf("Paths[%s] = %s, want suffix %s/c", ctrl, p, parent)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			t.Errorf("%s not created: %v", p, err)
		}
	}
	if cs := paths["cpuset"]; cs != "" {
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v := readTrim(t, filepath.Join(cs, f)); v == "" {
				t.Errorf("%s left empty in %s", f, cs)
			}
			if v := readTrim(t, filepath.Join(filepath.Dir(cs), f)); v == "" {
				t.Errorf("%s left empty in intermediate %s", f, filepath.Dir(cs))
			}
		}
	}

	p := startProc(t, "sleep 60")
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	self, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if !strings.HasSuffix(parts[2], parent+"/c") {
			t.Errorf("process not moved in hierarchy %q: %s", parts[1], parts[2])
		}
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, p.cmd.Process.Pid) {
		t.Fatalf("Pids = %v, %v; want %d", pids, err, p.cmd.Process.Pid)
	}
	if err := m.Kill(9); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	_ = p.wait(t, 5*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for ctrl, p := range m.Paths() {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Destroy left %s (%s)", p, ctrl)
		}
		if _, err := os.Stat(filepath.Dir(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Destroy left created parent %s (%s)", filepath.Dir(p), ctrl)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy of a missing cgroup: %v", err)
	}
}

func TestV1DestroyNested(t *testing.T) {
	m, _ := v1TestManager(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// A container may create its own sub-cgroups; Destroy must remove them first.
	nested := filepath.Join(m.path("pids"), "inner", "deeper")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "sleep 60")
	if err := os.WriteFile(filepath.Join(nested, "cgroup.procs"), []byte(strconv.Itoa(p.cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, p.cmd.Process.Pid) {
		t.Fatalf("Pids = %v, %v; want nested %d included", pids, err, p.cmd.Process.Pid)
	}
	if err := m.Kill(9); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t, 5*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(m.path("pids")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Destroy left %s", m.path("pids"))
	}
}

// Paths/MountPoints must describe every mounted hierarchy, with the unified one on hybrid.
func TestV1MountPoints(t *testing.T) {
	m, _ := v1TestManager(t)
	mps := m.MountPoints()
	dests := map[string]MountPoint{}
	for _, mp := range mps {
		dests[mp.Dest] = mp
	}
	for _, d := range m.dirs {
		mp, ok := dests[filepath.Base(d.h.Mountpoint)]
		if !ok || mp.Source != d.dir {
			t.Errorf("MountPoints lacks %s -> %s: %+v", filepath.Base(d.h.Mountpoint), d.dir, mps)
		}
	}
	if _, ok := dests["systemd"]; m.path("name=systemd") != "" && !ok {
		t.Errorf("MountPoints lacks name=systemd: %+v", mps)
	}
	if m.unified != "" {
		if mp, ok := dests["unified"]; !ok || mp.Source != m.unified || m.Paths()[""] != m.unified {
			t.Errorf("hybrid host: unified dir missing from MountPoints/Paths: %+v", mps)
		}
	}
}

func TestV1SetReadBack(t *testing.T) {
	m, _ := v1TestManager(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	type check struct{ ctrl, file, want string }
	maj, min := blockDevice(t)
	dev := fmt.Sprintf("%d:%d", maj, min)
	cases := []struct {
		name   string
		r      specs.LinuxResources
		checks []check
	}{
		{"memory limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(64 << 20)}},
			[]check{{"memory", "memory.limit_in_bytes", "67108864"}}},
		{"memory limit+swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(32 << 20), Swap: ptrI64(48 << 20)}},
			[]check{{"memory", "memory.limit_in_bytes", "33554432"}, {"memory", "memory.memsw.limit_in_bytes", "50331648"}}},
		{"memory raise both", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(128 << 20), Swap: ptrI64(256 << 20)}},
			[]check{{"memory", "memory.limit_in_bytes", "134217728"}, {"memory", "memory.memsw.limit_in_bytes", "268435456"}}},
		{"memory lower both", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(16 << 20), Swap: ptrI64(20 << 20)}},
			[]check{{"memory", "memory.limit_in_bytes", "16777216"}, {"memory", "memory.memsw.limit_in_bytes", "20971520"}}},
		{"memory unlimited", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(-1)}},
			[]check{{"memory", "memory.limit_in_bytes", "9223372036854771712"}, {"memory", "memory.memsw.limit_in_bytes", "9223372036854771712"}}},
		{"memory misc", specs.LinuxResources{Memory: &specs.LinuxMemory{
			Reservation: ptrI64(8 << 20), Swappiness: ptrU64(10), DisableOOMKiller: ptrBool(true),
			UseHierarchy: ptrBool(true), KernelTCP: ptrI64(16 << 20)}},
			[]check{{"memory", "memory.soft_limit_in_bytes", "8388608"}, {"memory", "memory.swappiness", "10"},
				{"memory", "memory.use_hierarchy", "1"}, {"memory", "memory.kmem.tcp.limit_in_bytes", "16777216"}}},
		{"cpu cfs", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptrU64(512), Quota: ptrI64(50000), Period: ptrU64(200000), Burst: ptrU64(10000), Idle: ptrI64(0)}},
			[]check{{"cpu", "cpu.shares", "512"}, {"cpu", "cpu.cfs_quota_us", "50000"}, {"cpu", "cpu.cfs_period_us", "200000"},
				{"cpu", "cpu.cfs_burst_us", "10000"}, {"cpu", "cpu.idle", "0"}}},
		{"cpu short period", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptrI64(3000), Period: ptrU64(10000), Burst: ptrU64(1000)}},
			[]check{{"cpu", "cpu.cfs_quota_us", "3000"}, {"cpu", "cpu.cfs_period_us", "10000"}, {"cpu", "cpu.cfs_burst_us", "1000"}}},
		{"cpu unlimited quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptrI64(-1), Burst: ptrU64(0)}},
			[]check{{"cpu", "cpu.cfs_quota_us", "-1"}}},
		{"cpu rt period", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptrU64(500000)}},
			[]check{{"cpu", "cpu.rt_period_us", "500000"}}},
		{"cpuset", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}},
			[]check{{"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"}}},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(42)}},
			[]check{{"pids", "pids.max", "42"}}},
		{"pids zero", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(0)}},
			[]check{{"pids", "pids.max", "0"}}},
		{"pids unlimited", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(-1)}},
			[]check{{"pids", "pids.max", "max"}}},
		{"blkio weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(300)}},
			[]check{{"blkio", blkioWeightName(m), "300"}}},
		// docker always sends blockIO.weight 0, which runc reads as "not set".
		{"blkio weight zero is unset", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(0), LeafWeight: ptrU16(0)}},
			[]check{{"blkio", blkioWeightName(m), "300"}}},
		{"blkio throttle", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{throttle(maj, min, 1048576)},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{throttle(maj, min, 2097152)},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{throttle(maj, min, 100)},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{throttle(maj, min, 200)}}},
			[]check{{"blkio", "blkio.throttle.read_bps_device", dev + " 1048576"}, {"blkio", "blkio.throttle.write_bps_device", dev + " 2097152"},
				{"blkio", "blkio.throttle.read_iops_device", dev + " 100"}, {"blkio", "blkio.throttle.write_iops_device", dev + " 200"}}},
		{"devices", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptrI64(1), Minor: ptrI64(3), Access: "rw"},
			{Allow: true, Type: "c", Major: ptrI64(136), Access: "rwm"}}},
			[]check{{"devices", "devices.list", "c 1:3 rw\nc 136:* rwm"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Set(&tc.r); err != nil {
				t.Fatalf("Set: %v", err)
			}
			for _, c := range tc.checks {
				dir := m.path(c.ctrl)
				if dir == "" {
					t.Fatalf("controller %s not mounted", c.ctrl)
				}
				if got := readTrim(t, filepath.Join(dir, c.file)); got != c.want {
					t.Errorf("%s = %q, want %q", c.file, got, c.want)
				}
			}
		})
	}
}

func throttle(maj, min int64, rate uint64) specs.LinuxThrottleDevice {
	d := specs.LinuxThrottleDevice{Rate: rate}
	d.Major, d.Minor = maj, min
	return d
}

func blkioWeightName(m *v1Manager) string {
	f, _ := blkioWeightFile(m.path("blkio"), false)
	return f
}

// blockDevice returns "major:minor" numbers of a real disk, which blkio throttling needs.
func blockDevice(t *testing.T) (int64, int64) {
	t.Helper()
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "loop") || strings.HasPrefix(e.Name(), "ram") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "dev"))
		if err != nil {
			continue
		}
		maj, min, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
		a, err1 := strconv.ParseInt(maj, 10, 64)
		c, err2 := strconv.ParseInt(min, 10, 64)
		if err1 == nil && err2 == nil {
			return a, c
		}
	}
	t.Skip("no block device on this host")
	return 0, 0
}

// Values the host or kernel cannot apply must fail with the resource named.
func TestV1SetErrors(t *testing.T) {
	m, _ := v1TestManager(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		r    specs.LinuxResources
		want string
	}{
		{"swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(64 << 20), Swap: ptrI64(32 << 20)}}, "memory.swap"},
		{"swappiness range", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptrU64(101)}}, "memory.swappiness"},
		{"shares out of range", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptrU64(1 << 20)}}, "cpu.shares"},
		{"bad cpus", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "64-70"}}, "cpu.cpus"},
		{"leaf weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptrU16(100)}}, "blockIO.leafWeight"},
		{"bad pagesize", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../x", Limit: 1}}}, "hugepageLimits"},
		{"missing pagesize", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, "hugepageLimits"},
		{"bad device type", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, "devices"},
		{"unified v1 controller", specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "unified"},
		{"unified traversal", specs.LinuxResources{Unified: map[string]string{"../cgroup.procs": "1"}}, "unified"},
	}
	if m.path("net_cls") == "" {
		cases = append(cases, struct {
			name string
			r    specs.LinuxResources
			want string
		}{"net_cls missing", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptrU32(0x100001)}}, "network.classID"})
	}
	if m.path("rdma") == "" {
		cases = append(cases, struct {
			name string
			r    specs.LinuxResources
			want string
		}{"rdma missing", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: ptrU32(1)}}}, "rdma"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Set(&tc.r)
			if err == nil {
				t.Fatalf("Set succeeded; want an error naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}
