package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestV2Conversions(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 39, 262144: 10000, 1: 1, 1 << 30: 10000} {
		if got := sharesToWeight(shares); got != want {
			t.Errorf("sharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for w, want := range map[uint16]uint64{10: 1, 500: 4950, 1000: 10000} {
		if got := blkioWeightToIO(w); got != want {
			t.Errorf("blkioWeightToIO(%d) = %d, want %d", w, got, want)
		}
	}
	swaps := []struct {
		swap, limit int64
		want        string
		err         bool
	}{
		{0, 100, "", false}, {-1, 100, "max", false}, {300, 100, "200", false}, {100, 100, "0", false},
		{50, 100, "", true}, {300, 0, "", true}, {300, -1, "", true},
	}
	for _, tc := range swaps {
		got, err := swapToV2(tc.swap, tc.limit)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("swapToV2(%d, %d) = %q, %v; want %q (err %v)", tc.swap, tc.limit, got, err, tc.want, tc.err)
		}
	}
	cpuMax := []struct {
		cur    string
		quota  *int64
		period *uint64
		want   string
		ok     bool
	}{
		{"max 100000", ptrI64(50000), nil, "50000 100000", true},
		{"20000 50000", nil, ptrU64(250000), "20000 250000", true},
		{"20000 50000", ptrI64(-1), ptrU64(100000), "max 100000", true},
		{"", ptrI64(1000), ptrU64(10000), "1000 10000", true},
		{"max 100000", nil, nil, "", false},
	}
	for _, tc := range cpuMax {
		got, ok := cpuMaxValue(tc.cur, tc.quota, tc.period)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cpuMaxValue(%q) = %q, %v; want %q, %v", tc.cur, got, ok, tc.want, tc.ok)
		}
	}
	bytes, ios := parseIOStat("8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n")
	if !reflect.DeepEqual(bytes, []BlkioEntry{{8, 0, "Read", 100}, {8, 0, "Write", 200}}) ||
		!reflect.DeepEqual(ios, []BlkioEntry{{8, 0, "Read", 3}, {8, 0, "Write", 4}}) {
		t.Errorf("parseIOStat = %+v, %+v", bytes, ios)
	}
}

// fakeV2 builds a fake cgroup2 tree in a temp dir: a root delegating ctrls and a child "c"
// holding them and the given empty interface files, with cpu.max preset.
func fakeV2(t *testing.T, files ...string) *v2Manager {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctrls := "cpu cpuset io memory pids hugetlb"
	// As the kernel does, the child lists exactly what the root enables for it.
	for _, f := range []string{"cgroup.controllers", "cgroup.subtree_control", "c/cgroup.controllers"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(ctrls+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cpu.max"), []byte("max 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &v2Manager{mount: &hierarchy{Mountpoint: root, Root: "/"}, dir: dir}
}

func TestV2SetFakeTree(t *testing.T) {
	all := []string{"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max.burst", "cpu.idle",
		"cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max", "hugetlb.2MB.max", "memory.high"}
	cases := []struct {
		name  string
		files []string
		r     specs.LinuxResources
		want  map[string]string
		err   string
	}{
		{"memory", all, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(100 << 20), Swap: ptrI64(150 << 20), Reservation: ptrI64(10 << 20)}},
			map[string]string{"memory.max": "104857600", "memory.swap.max": "52428800", "memory.low": "10485760"}, ""},
		{"memory unlimited", all, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(-1)}},
			map[string]string{"memory.max": "max", "memory.swap.max": "max"}, ""},
		{"no swap accounting", []string{"memory.max"}, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(1 << 20), Swap: ptrI64(2 << 20)}},
			nil, "memory.swap: memory.swap.max not available"},
		{"swappiness", all, specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptrU64(1)}}, nil, "memory.swappiness"},
		{"cpu", all, specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptrU64(1024), Quota: ptrI64(50000), Burst: ptrU64(1000), Idle: ptrI64(1), Cpus: "0", Mems: "0"}},
			map[string]string{"cpu.weight": "39", "cpu.max": "50000 100000", "cpu.max.burst": "1000", "cpu.idle": "1", "cpuset.cpus": "0", "cpuset.mems": "0"}, ""},
		{"realtime", all, specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptrI64(1000)}}, nil, "realtime"},
		{"pids", all, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(-1)}}, map[string]string{"pids.max": "max"}, ""},
		{"io", all, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(500),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{throttle(8, 0, 1000)}}},
			map[string]string{"io.weight": "default 4950", "io.max": "8:0 rbps=1000"}, ""},
		{"io bfq", append([]string{"io.bfq.weight"}, all...), specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(500)}},
			map[string]string{"io.bfq.weight": "500"}, ""},
		{"io weight zero is unset (docker)", all, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(0), LeafWeight: ptrU16(0)}},
			map[string]string{"io.weight": ""}, ""},
		{"hugetlb", all, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			map[string]string{"hugetlb.2MB.max": "4194304"}, ""},
		{"unified", all, specs.LinuxResources{Unified: map[string]string{"memory.high": "123"}}, map[string]string{"memory.high": "123"}, ""},
		{"unified missing file", all, specs.LinuxResources{Unified: map[string]string{"memory.zswap.max": "0"}}, nil, "unified.memory.zswap.max"},
		{"unified missing controller", all, specs.LinuxResources{Unified: map[string]string{"rdma.max": "x"}}, nil, "controller rdma is not available"},
		{"network", all, specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptrU32(1)}}, nil, "network"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := fakeV2(t, tc.files...)
			err := m.Set(&tc.r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Set = %v; want error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			for f, want := range tc.want {
				if got := readTrim(t, filepath.Join(m.dir, f)); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
		})
	}
}

// v2OnHostManager runs the v2 driver against the host's cgroup2 hierarchy: the real one on
// a pure v2 host, or the cgroup2 mount of a hybrid host (core files such as cgroup.freeze,
// cgroup.kill and the BPF device hook work there too).
func v2OnHostManager(t *testing.T) *v2Manager {
	t.Helper()
	requireRoot(t)
	l, err := detectLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.Unified == nil {
		t.Skip("host has no cgroup2 hierarchy")
	}
	parent := "/" + randomName("runo-test-")
	m, err := newV2Manager(Config{Path: parent + "/c"}, &layout{Mode: modeUnified, Unified: l.Unified})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if m.Kill(9) == nil {
			time.Sleep(10 * time.Millisecond)
		}
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if _, err := os.Stat(filepath.Dir(m.dir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Destroy left parent %s", filepath.Dir(m.dir))
			_ = os.Remove(filepath.Dir(m.dir))
		}
	})
	return m
}

func TestV2OnHostLifecycle(t *testing.T) {
	m := v2OnHostManager(t)
	counter := filepath.Join(t.TempDir(), "count")
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	p := startProc(t, `i=0; while :; do i=$((i+1)); echo $i > `+counter+`; sleep 0.01; done`)
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	p.release(t)
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, p.cmd.Process.Pid) {
		t.Fatalf("Pids = %v, %v", pids, err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if fr, err := m.Frozen(); err != nil || !fr {
		t.Fatalf("Frozen = %v, %v", fr, err)
	}
	v := readCounter(counter)
	time.Sleep(300 * time.Millisecond)
	if v2 := readCounter(counter); v2 != v {
		t.Fatalf("counter advanced while frozen: %q -> %q", v, v2)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for readCounter(counter) == v {
		if time.Now().After(deadline) {
			t.Fatal("counter did not advance after Thaw")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := m.Stats()
	if err != nil || st.CPU.Usage.Total == 0 {
		t.Errorf("Stats = %+v, %v; want cpu usage", st, err)
	}
	if err := m.Kill(9); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	_ = p.wait(t, 5*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(m.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Destroy left %s", m.dir)
	}
}

func TestV2OnHostDevicesBPF(t *testing.T) {
	m := v2OnHostManager(t)
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptrI64(1), Minor: ptrI64(3), Access: "rwm"}, // /dev/null
		{Allow: true, Type: "c", Major: ptrI64(1), Minor: ptrI64(9), Access: "r"},   // /dev/urandom, read only
	}}
	p := startProc(t, "echo x > /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied; "+
		"head -c1 /dev/urandom >/dev/null 2>&1 && echo urandom-r-ok; (echo x > /dev/urandom) 2>/dev/null && echo urandom-w-ok || echo urandom-w-denied")
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set: %v", err)
	}
	// Setting again replaces the program instead of stacking a second one.
	if err := m.Set(r); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	p.release(t)
	_ = p.wait(t, 10*time.Second)
	out := p.out.String()
	for _, want := range []string{"null-ok", "zero-denied", "urandom-r-ok", "urandom-w-denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
}
