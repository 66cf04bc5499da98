package cgroups

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// applyThenRelease creates the cgroup, puts a waiting process into it, sets r, then lets
// it run.
func applyThenRelease(t *testing.T, m Manager, r *specs.LinuxResources, script string) *proc {
	t.Helper()
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	p := startProc(t, script)
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set: %v", err)
	}
	p.release(t)
	return p
}

func TestV1PidsLimitStopsFork(t *testing.T) {
	cases := []struct {
		limit    int64
		wantFork bool
	}{
		{1, false}, // the shell itself uses the only slot
		{-1, true},
		{5, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
			m, _ := v1TestManager(t)
			p := applyThenRelease(t, m, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(tc.limit)}},
				"if /bin/true; then echo forked; else echo nofork; fi")
			_ = p.wait(t, 10*time.Second)
			out := p.out.String()
			if got := strings.Contains(out, "forked"); got != tc.wantFork {
				t.Errorf("limit %d: forked=%v, want %v; output %q", tc.limit, got, tc.wantFork, out)
			}
		})
	}
}

func TestV1FreezeStopsCounter(t *testing.T) {
	m, _ := v1TestManager(t)
	counter := filepath.Join(t.TempDir(), "count")
	p := applyThenRelease(t, m, &specs.LinuxResources{},
		`i=0; while :; do i=$((i+1)); echo $i > `+counter+`; sleep 0.01; done`)
	waitAdvance := func(what string) {
		t.Helper()
		first := readCounter(counter)
		deadline := time.Now().Add(5 * time.Second)
		for readCounter(counter) == first {
			if time.Now().After(deadline) {
				t.Fatalf("%s: counter stuck at %q; output %q", what, first, p.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAdvance("before freeze")
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if fr, err := m.Frozen(); err != nil || !fr {
		t.Fatalf("Frozen = %v, %v after Freeze", fr, err)
	}
	v1 := readCounter(counter)
	time.Sleep(300 * time.Millisecond)
	if v2 := readCounter(counter); v2 != v1 {
		t.Fatalf("counter advanced while frozen: %q -> %q", v1, v2)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if fr, err := m.Frozen(); err != nil || fr {
		t.Fatalf("Frozen = %v, %v after Thaw", fr, err)
	}
	waitAdvance("after thaw")
}

func readCounter(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func TestV1MemoryLimitOOMKills(t *testing.T) {
	m, _ := v1TestManager(t)
	limit := int64(32 << 20)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI64(limit), Swap: ptrI64(limit)}}
	if !fileExists(filepath.Join(cgroupRoot, "memory"), memswLimit) {
		r.Memory.Swap = nil
	}
	// tail keeps the last lines, here the whole newline-free input, in memory: 64 MiB of anonymous memory.
	p := applyThenRelease(t, m, r, "head -c 64M /dev/zero | tail >/dev/null")
	err := p.wait(t, 30*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+9 {
		t.Errorf("hog pipeline exit = %v, want status 137 (SIGKILL); output %q", err, p.out.String())
	}
	kv, rerr := readKeyValues(m.path("memory"), "memory.oom_control")
	if rerr != nil {
		t.Fatal(rerr)
	}
	if kv["oom_kill"] < 1 {
		t.Fatalf("no OOM kill recorded (oom_control %v); output %q", kv, p.out.String())
	}
	st, serr := m.Stats()
	if serr != nil {
		t.Fatal(serr)
	}
	// With memsw set the kernel counts the failures against memsw, so check the peak.
	if st.Memory.Usage.Max < uint64(limit)*9/10 || st.Memory.Usage.Limit != uint64(limit) {
		t.Errorf("stats after OOM: %+v", st.Memory.Usage)
	}
}

func TestV1DevicesDeny(t *testing.T) {
	m, _ := v1TestManager(t)
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptrI64(1), Minor: ptrI64(3), Access: "rwm"}, // /dev/null
	}}
	p := applyThenRelease(t, m, r,
		"echo x > /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied")
	_ = p.wait(t, 10*time.Second)
	out := p.out.String()
	if !strings.Contains(out, "null-ok") || !strings.Contains(out, "zero-denied") {
		t.Fatalf("device rules not enforced; output %q", out)
	}
	// Re-sending the same rules must not rewrite (and briefly deny) the list.
	dir := m.path("devices")
	before := readTrim(t, filepath.Join(dir, "devices.list"))
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if after := readTrim(t, filepath.Join(dir, "devices.list")); after != before {
		t.Errorf("devices.list changed on identical update: %q -> %q", before, after)
	}
}

func TestV1Stats(t *testing.T) {
	m, _ := v1TestManager(t)
	p := applyThenRelease(t, m, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(10)}},
		"i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60")
	deadline := time.Now().Add(10 * time.Second)
	var st *Stats
	for {
		var err error
		if st, err = m.Stats(); err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if st.CPU.Usage.Total > 0 && st.Pids.Current == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p
	if st.CPU.Usage.Total == 0 || len(st.CPU.Usage.Percpu) == 0 {
		t.Errorf("cpu usage not read: %+v", st.CPU.Usage)
	}
	if st.Pids.Current != 2 || st.Pids.Limit != 10 {
		t.Errorf("pids = %+v, want current 2 (sh + sleep), limit 10", st.Pids)
	}
	if st.Memory.Usage.Usage == 0 || len(st.Memory.Raw) == 0 {
		t.Errorf("memory stats not read: %+v", st.Memory.Usage)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][2]string{{"cpu", "usage"}, {"cpu", "throttling"}, {"memory", "usage"}, {"memory", "raw"}, {"pids", "current"}} {
		if _, ok := generic[path[0]][path[1]]; !ok {
			t.Errorf("JSON lacks %s.%s: %s", path[0], path[1], b)
		}
	}
}
