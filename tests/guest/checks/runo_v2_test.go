package checks

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// v2Bundle is a busybox bundle for runo on a pure cgroup v2 host.
func v2Bundle(t *testing.T, script string, mutate func(*specs.Spec)) *testbundle.Bundle {
	t.Helper()
	requireV2(t)
	requireRuno(t)
	b := testbundle.New(t, testbundle.WithArgs("sh", "-c", script))
	if mutate != nil {
		b.Mutate(mutate)
	}
	return b
}

func mustOK(t *testing.T, what string, r testbundle.Result) string {
	t.Helper()
	if r.ExitCode != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// TestRunoV2Limits: the spec's resources as the v2 files of a created container.
func TestRunoV2Limits(t *testing.T) {
	b := v2Bundle(t, "sleep 600", func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(16 << 20))}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(42))}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: ptr(uint64(2048)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000))}
		s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(300))}
		s.Linux.Resources.Unified = map[string]string{"memory.high": "50331648"}
	})
	b.MustCreate()
	st := b.MustStatus(specs.StateCreated)
	path := b.CgroupPath()
	ioFile, ioWant := "io.weight", "default 3029" // 1 + (300-10)*9999/990
	if _, err := os.Stat(filepath.Join(cgroupRoot, path, "io.bfq.weight")); err == nil {
		ioFile, ioWant = "io.bfq.weight", "default 300"
	}
	for _, c := range []struct{ file, want string }{
		{"memory.max", "67108864"},
		{"memory.low", "16777216"},
		{"memory.high", "50331648"},
		{"pids.max", "42"},
		{"cpu.max", "50000 100000"},
		{"cpu.weight", "79"}, // 1 + (2048-2)*9999/262142
		{ioFile, ioWant},
	} {
		if got := cgFile(t, path, c.file); got != c.want {
			t.Errorf("%s = %q, want %q", c.file, got, c.want)
		}
	}
	if procs := strings.Fields(cgFile(t, path, "cgroup.procs")); len(procs) != 1 || procs[0] != strconv.Itoa(st.Pid) {
		t.Errorf("cgroup.procs = %v, want only the init pid %d", procs, st.Pid)
	}
}

// TestRunoV2MemoryOOM: a memory hog is OOM-killed at the limit and the
// container sees the kill in its own memory.events.
func TestRunoV2MemoryOOM(t *testing.T) {
	b := v2Bundle(t, `awk 'BEGIN { s = "x"; while (1) s = s s }'; echo "hog-exit=$?"; cat /sys/fs/cgroup/memory.events`,
		func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(24 << 20)), Swap: ptr(int64(24 << 20))}
		})
	r := b.Run()
	out := mustOK(t, "run", r)
	if !strings.Contains(out, "hog-exit=137") {
		t.Errorf("memory hog was not SIGKILLed (want hog-exit=137):\n%s%s", out, r.Stderr)
	}
	if n, ok := keyValue(out, "oom_kill"); !ok || n < 1 {
		t.Errorf("memory.events oom_kill = %d (found %v), want >= 1:\n%s", n, ok, out)
	}
}

// TestRunoV2PidsForkBomb: a fork loop stops at pids.max.
func TestRunoV2PidsForkBomb(t *testing.T) {
	const limit = 8
	// busybox sh exits when fork fails, so the loop runs in a subshell; the
	// report afterwards uses only builtins, as no fork is possible then.
	b := v2Bundle(t, `(n=0; while [ $n -lt 40 ]; do sleep 60 & n=$((n+1)); echo "started=$n" > /dev/shm/n; done) 2>/dev/null
read n < /dev/shm/n; echo "$n"; read cur < /sys/fs/cgroup/pids.current; echo "current=$cur"
while read k v; do echo "$k $v"; done < /sys/fs/cgroup/pids.events`,
		func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(limit))} })
	r := b.Run()
	out := mustOK(t, "run", r)
	if n, ok := keyValue(out, "max"); !ok || n < 1 {
		t.Errorf("pids.events max = %d (found %v), want >= 1 (fork refused):\n%s", n, ok, out)
	}
	for _, f := range strings.Fields(out) {
		k, v, _ := strings.Cut(f, "=")
		n, err := strconv.Atoi(v)
		switch {
		case k == "started" && (err != nil || n >= 40):
			t.Errorf("started %q background processes under pids.max=%d", v, limit)
		case k == "current" && (err != nil || n > limit):
			t.Errorf("pids.current = %q, want <= %d", v, limit)
		}
	}
	if !strings.Contains(out, "started=") || !strings.Contains(out, "current=") {
		t.Errorf("missing report lines:\n%s", out)
	}
}

// TestRunoV2DeviceFilter: the eBPF device program decides whether a device node
// in the container can be opened. /dev/kmsg (c 1:11) is not among the devices
// every container may use, so only an explicit rule allows it.
func TestRunoV2DeviceFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		wantOK bool
	}{
		{"denied", nil, false},
		{"allowed write", []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "w"}}, true},
		{"allowed read only", []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "r"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := v2Bundle(t, `if echo runo-guest-devtest > /dev/testkmsg; then echo open-ok; else echo open-failed; fi`,
				func(s *specs.Spec) {
					s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/testkmsg", Type: "c", Major: 1, Minor: 11, FileMode: ptr(os.FileMode(0o666))})
					s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, tc.rules...)
				})
			r := b.Run()
			out := mustOK(t, "run", r)
			if got := strings.Contains(out, "open-ok"); got != tc.wantOK {
				t.Errorf("open for write succeeded=%v, want %v:\n%s%s", got, tc.wantOK, out, r.Stderr)
			}
			if !tc.wantOK && !strings.Contains(r.Stderr, "not permitted") {
				t.Errorf("denied open should fail with EPERM, stderr: %q", r.Stderr)
			}
		})
	}
}

// counter reads the container's counter file through its init's root.
func counter(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "root/dev/shm/count"))
	return strings.TrimSpace(string(b))
}

func waitAdvance(t *testing.T, pid int, from string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if v := counter(pid); v != "" && v != from {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter stuck at %q for %v", from, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRunoV2PauseResume: `runo pause` freezes the cgroup (a counter stops),
// `runo resume` thaws it.
func TestRunoV2PauseResume(t *testing.T) {
	b := v2Bundle(t, `i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done`, nil)
	b.MustCreate()
	mustOK(t, "start", b.Runo("start", b.ID))
	st := b.MustStatus(specs.StateRunning)
	v := waitAdvance(t, st.Pid, "", 20*time.Second)
	mustOK(t, "pause", b.Runo("pause", b.ID))
	b.MustStatus(specs.ContainerState("paused"))
	if got := cgFile(t, b.CgroupPath(), "cgroup.freeze"); got != "1" {
		t.Errorf("cgroup.freeze = %q after pause, want 1", got)
	}
	if fr, _ := keyValue(cgFile(t, b.CgroupPath(), "cgroup.events"), "frozen"); fr != 1 {
		t.Errorf("cgroup.events frozen = %d after pause, want 1", fr)
	}
	v = counter(st.Pid)
	time.Sleep(time.Second)
	if v2 := counter(st.Pid); v2 != v {
		t.Fatalf("counter advanced while paused: %q -> %q", v, v2)
	}
	mustOK(t, "resume", b.Runo("resume", b.ID))
	b.MustStatus(specs.StateRunning)
	waitAdvance(t, st.Pid, v, 20*time.Second)
}

// TestRunoV2MemoryPeak: a stopped container's cgroup stays until delete, with
// the peak memory use of its (short) life. runo creates the whole cgroup path
// here (see TestRunoV2ExistingParentGetsControllers for a pre-existing parent).
func TestRunoV2MemoryPeak(t *testing.T) {
	parent := "/runo-guest-" + testbundle.RandHex(4)
	t.Cleanup(func() { testbundle.RemoveCgroupTree(t, parent) })
	b := v2Bundle(t, "", func(s *specs.Spec) {
		s.Process.Args = []string{"/bin/true"}
		s.Linux.CgroupsPath = parent + "/peak"
	})
	b.MustCreate()
	mustOK(t, "start", b.Runo("start", b.ID))
	if err := b.WaitStatus(specs.StateStopped, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, b.CgroupPath(), "memory.peak")); err != nil {
		t.Fatalf("stopped container: %v (parent's subtree_control: %q)", err, cgFile(t, parent, "cgroup.subtree_control"))
	}
	peak := cgFile(t, b.CgroupPath(), "memory.peak")
	n, err := strconv.ParseInt(peak, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("memory.peak = %q, want a positive byte count", peak)
	}
	t.Logf("memory.peak of /bin/true: %d bytes", n)
	mustOK(t, "delete", b.Runo("delete", b.ID))
	if _, err := os.Stat(filepath.Join(cgroupRoot, b.CgroupPath())); !os.IsNotExist(err) {
		t.Errorf("delete left the cgroup %s (stat: %v)", b.CgroupPath(), err)
	}
}

// TestRunoV2TinyMemoryLimit: a 256 KiB limit is enough for /bin/true, since
// runo moves the process into the cgroup only just before exec.
func TestRunoV2TinyMemoryLimit(t *testing.T) {
	b := v2Bundle(t, "", func(s *specs.Spec) {
		s.Process.Args = []string{"/bin/true"}
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(256 << 10))}
	})
	r := b.Run()
	mustOK(t, "run /bin/true with memory.max=256K", r)
}

// TestRunoV2ExistingParentGetsControllers: like runc, runo must enable every
// available controller in each ancestor's cgroup.subtree_control, including
// ancestors that existed before (an admin's or an engine's parent cgroup), so
// that a container without limits still has memory.*, pids.*, cpu.* files for
// stats and later updates.
func TestRunoV2ExistingParentGetsControllers(t *testing.T) {
	b := v2Bundle(t, "sleep 600", nil) // testbundle made the parent, with nothing delegated
	b.MustCreate()
	for _, f := range []string{"memory.current", "pids.current", "cpu.weight", "memory.peak"} {
		if _, err := os.Stat(filepath.Join(cgroupRoot, b.CgroupPath(), f)); err != nil {
			t.Errorf("container cgroup lacks %s under a pre-existing parent (parent subtree_control %q): %v",
				f, cgFile(t, b.CgroupParent, "cgroup.subtree_control"), err)
		}
	}
}
