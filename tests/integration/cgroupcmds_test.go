package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// counterContainer runs an init that increments a counter every 50ms in a
// file on a bind mount, and returns the host path of that file.
func counterContainer(t *testing.T) (*testbundle.Bundle, string) {
	t.Helper()
	dir := t.TempDir()
	b, _ := startSleeper(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/c", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
		s.Process.Args = sh(`i=0; while :; do i=$((i+1)); echo $i > /c/n.tmp; mv /c/n.tmp /c/n; sleep 0.05; done`)
	})
	return b, filepath.Join(dir, "n")
}

func readCounter(t *testing.T, path string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(waitFile(t, path, 10*time.Second)))
	if err != nil {
		t.Fatalf("counter file %s: %v", path, err)
	}
	return n
}

// listStatus returns the container's status as `list -f json` reports it.
func listStatus(t *testing.T, b *testbundle.Bundle) string {
	t.Helper()
	r := b.Runo("list", "-f", "json")
	mustExit(t, r, 0, "list -f json")
	var entries []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &entries); err != nil {
		t.Fatalf("list -f json %q: %v", r.Stdout, err)
	}
	for _, e := range entries {
		if e.ID == b.ID {
			return e.Status
		}
	}
	t.Fatalf("list -f json does not show %s: %s", b.ID, r.Stdout)
	return ""
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("freezer", "/") == "" {
		t.Skip("cgroup v1 freezer not mounted on this host")
	}
	b, counter := counterContainer(t)
	if !waitFor(10*time.Second, func() bool { return readCounter(t, counter) >= 2 }) {
		t.Fatal("counter never advanced")
	}

	mustExit(t, b.Runo("pause", b.ID), 0, "pause")
	b.MustStatus(statePaused)
	if s := listStatus(t, b); s != "paused" {
		t.Errorf("list status %q, want paused", s)
	}
	if fs := cgroupFile(t, b, "freezer", "freezer.state"); fs != "FROZEN" {
		t.Errorf("freezer.state = %q, want FROZEN", fs)
	}
	frozen := readCounter(t, counter)
	time.Sleep(500 * time.Millisecond)
	if now := readCounter(t, counter); now != frozen {
		t.Errorf("counter advanced while paused: %d -> %d", frozen, now)
	}

	mustExit(t, b.Runo("resume", b.ID), 0, "resume")
	b.MustStatus(specs.StateRunning)
	if s := listStatus(t, b); s != "running" {
		t.Errorf("list status %q after resume, want running", s)
	}
	if !waitFor(10*time.Second, func() bool { return readCounter(t, counter) > frozen }) {
		t.Errorf("counter did not advance after resume (stuck at %d)", frozen)
	}
	r := b.Runo("resume", b.ID)
	if r.ExitCode == 0 {
		t.Errorf("resume of a running container succeeded")
	}
	assertMentions(t, r.Stderr, "not paused")
}

// TestPausedContainerTeardown: a paused container can still be killed and
// force-deleted, leaving no process and no cgroup behind.
func TestPausedContainerTeardown(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("freezer", "/") == "" {
		t.Skip("cgroup v1 freezer not mounted on this host")
	}
	tests := []struct {
		name     string
		teardown func(t *testing.T, b *testbundle.Bundle)
	}{
		{"delete -f", func(t *testing.T, b *testbundle.Bundle) {
			mustExit(t, b.Runo("delete", "-f", b.ID), 0, "delete -f of a paused container")
		}},
		// A frozen v1 cgroup holds SIGKILL until thawed; runc thaws after
		// sending it, so kill alone stops the container.
		{"kill KILL then delete", func(t *testing.T, b *testbundle.Bundle) {
			mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill of a paused container")
			if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			mustExit(t, b.Runo("delete", b.ID), 0, "delete")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, initPid := startSleeper(t, nil)
			exPid := execDetached(t, b, nil, sleeper...)
			mustExit(t, b.Runo("pause", b.ID), 0, "pause")
			tc.teardown(t, b)
			if _, r := b.State(); r.ExitCode == 0 {
				t.Errorf("state still succeeds after teardown")
			}
			for _, pid := range []int{initPid, exPid} {
				if !waitFor(5*time.Second, func() bool { return !pidAlive(pid) }) {
					t.Errorf("pid %d survived teardown of the paused container", pid)
				}
			}
			if dir := testbundle.V1Path("freezer", b.CgroupPath()); dir != "" {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("freezer cgroup %s left behind", dir)
				}
			}
		})
	}
}

func TestPauseNotRunning(t *testing.T) {
	t.Parallel()
	b := stoppedContainer(t)
	for _, cmd := range []string{"pause", "resume"} {
		r := b.Runo(cmd, b.ID)
		if r.ExitCode == 0 {
			t.Errorf("%s of a stopped container succeeded", cmd)
		}
		if strings.TrimSpace(r.Stderr) == "" {
			t.Errorf("%s of a stopped container failed without a message", cmd)
		}
	}
	b.MustStatus(specs.StateStopped)
}

func TestPs(t *testing.T) {
	t.Parallel()
	b, initPid := startSleeper(t, nil)
	exPid := execDetached(t, b, nil, sleeper...)
	pids := psJSON(t, b)
	want := []int{initPid, exPid}
	sort.Ints(want)
	if len(pids) != 2 || pids[0] != want[0] || pids[1] != want[1] {
		t.Fatalf("ps -f json = %v, want %v", pids, want)
	}

	t.Run("table", func(t *testing.T) {
		r := b.Runo("ps", b.ID)
		mustExit(t, r, 0, "ps")
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		col := -1
		for i, f := range strings.Fields(lines[0]) {
			if f == "PID" {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("ps header lacks PID:\n%s", r.Stdout)
		}
		var rows []int
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) <= col {
				t.Fatalf("short ps row %q", l)
			}
			p, err := strconv.Atoi(f[col])
			if err != nil {
				t.Fatalf("ps row %q: PID column %q", l, f[col])
			}
			rows = append(rows, p)
		}
		sort.Ints(rows)
		if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
			t.Errorf("ps rows have pids %v, want %v:\n%s", rows, want, r.Stdout)
		}
	})
	t.Run("ps options passed through", func(t *testing.T) {
		r := b.Runo("ps", b.ID, "-o", "pid,comm")
		mustExit(t, r, 0, "ps -o pid,comm")
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		if h := strings.Fields(lines[0]); len(h) != 2 || h[0] != "PID" || h[1] != "COMMAND" {
			t.Errorf("header %q, want PID COMMAND", lines[0])
		}
		if len(lines) != 3 {
			t.Fatalf("want 2 rows:\n%s", r.Stdout)
		}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			p, _ := strconv.Atoi(f[0])
			if len(f) != 2 || !containsInt(want, p) || f[1] != "sleep" {
				t.Errorf("row %q, want one of pids %v running sleep", l, want)
			}
		}
	})
	t.Run("bad format", func(t *testing.T) {
		r := b.Runo("ps", "-f", "yaml", b.ID)
		if r.ExitCode == 0 {
			t.Errorf("ps -f yaml succeeded: %q", r.Stdout)
		}
	})
}

type cgCheck struct{ controller, file, want string }

func TestUpdate(t *testing.T) {
	t.Parallel()
	const stdinJSON = `{"memory":{"limit":50331648,"reservation":25165824,"swap":100663296},` +
		`"cpu":{"shares":256,"quota":20000,"period":100000,"cpus":"0","mems":"0"},` +
		`"pids":{"limit":30},"blockIO":{"weight":250}}`
	tests := []struct {
		name    string
		updates [][]string // one `update` invocation each, flags only
		stdin   string     // for `-r -`
		checks  []cgCheck
	}{
		{name: "memory", updates: [][]string{{"--memory", "64m"}},
			checks: []cgCheck{{"memory", "memory.limit_in_bytes", "67108864"}}},
		{name: "memory-swap", updates: [][]string{{"--memory", "64m", "--memory-swap", "128m"}},
			checks: []cgCheck{{"memory", "memory.limit_in_bytes", "67108864"}, {"memory", "memory.memsw.limit_in_bytes", "134217728"}}},
		{name: "memory-reservation", updates: [][]string{{"--memory-reservation", "32m"}},
			checks: []cgCheck{{"memory", "memory.soft_limit_in_bytes", "33554432"}}},
		{name: "cpu quota and period", updates: [][]string{{"--cpu-period", "200000", "--cpu-quota", "50000"}},
			checks: []cgCheck{{"cpu", "cpu.cfs_period_us", "200000"}, {"cpu", "cpu.cfs_quota_us", "50000"}}},
		{name: "cpu-share", updates: [][]string{{"--cpu-share", "512"}},
			checks: []cgCheck{{"cpu", "cpu.shares", "512"}}},
		{name: "cpuset-cpus", updates: [][]string{{"--cpuset-cpus", "0"}},
			checks: []cgCheck{{"cpuset", "cpuset.cpus", "0"}}},
		{name: "pids-limit", updates: [][]string{{"--pids-limit", "20"}},
			checks: []cgCheck{{"pids", "pids.max", "20"}}},
		{name: "blkio-weight", updates: [][]string{{"--blkio-weight", "300"}},
			checks: []cgCheck{{"blkio", "blkio.bfq.weight", "300"}}},
		{name: "later update keeps earlier limits", updates: [][]string{{"--memory", "64m"}, {"--pids-limit", "20"}, {"--cpu-share", "300"}},
			checks: []cgCheck{{"memory", "memory.limit_in_bytes", "67108864"}, {"pids", "pids.max", "20"}, {"cpu", "cpu.shares", "300"}}},
		{name: "resources JSON on stdin", updates: [][]string{{"-r", "-"}}, stdin: stdinJSON,
			checks: []cgCheck{
				{"memory", "memory.limit_in_bytes", "50331648"}, {"memory", "memory.soft_limit_in_bytes", "25165824"},
				{"memory", "memory.memsw.limit_in_bytes", "100663296"},
				{"cpu", "cpu.shares", "256"}, {"cpu", "cpu.cfs_quota_us", "20000"}, {"cpu", "cpu.cfs_period_us", "100000"},
				{"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"},
				{"pids", "pids.max", "30"}, {"blkio", "blkio.bfq.weight", "250"},
			}},
		// runo-specific: runc 1.1 silently ignores the flags when -r is given.
		{name: "flags override stdin JSON", updates: [][]string{{"-r", "-", "--pids-limit", "40"}}, stdin: `{"pids":{"limit":30}}`,
			checks: []cgCheck{{"pids", "pids.max", "40"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, _ := startSleeper(t, nil)
			for _, flags := range tc.updates {
				cmd := b.Command(append(append([]string{"update"}, flags...), b.ID)...)
				if tc.stdin != "" {
					cmd.Stdin = strings.NewReader(tc.stdin)
				}
				r := cmd.Run()
				mustExit(t, r, 0, "update "+strings.Join(flags, " "))
			}
			for _, c := range tc.checks {
				got := cgroupFile(t, b, c.controller, c.file)
				// Some kernels print blkio.bfq.weight as "default N".
				got = strings.TrimPrefix(got, "default ")
				if got != c.want {
					t.Errorf("%s = %q, want %q", c.file, got, c.want)
				}
			}
		})
	}
}

func TestUpdateStopped(t *testing.T) {
	t.Parallel()
	b := stoppedContainer(t)
	r := b.Runo("update", "--pids-limit", "10", b.ID)
	if r.ExitCode == 0 {
		t.Errorf("update of a stopped container succeeded")
	}
	if strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("update of a stopped container failed without a message")
	}
}

// TestUpdatePidsLimitStopsForkLoop: lowering pids.max while a loop keeps
// spawning processes caps the container at the new limit.
func TestUpdatePidsLimitStopsForkLoop(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("pids", "/") == "" {
		t.Skip("cgroup v1 pids controller not mounted on this host")
	}
	const limit = 20
	b, _ := startSleeper(t, nil)
	loop := b.Command(execArgs(b, nil, sh("for i in $(seq 1 60); do sleep 1000 </dev/null >/dev/null 2>&1 & sleep 0.04; done; echo loop-done")...)...)
	loop.Start()
	current := func() int {
		n, _ := strconv.Atoi(cgroupFile(t, b, "pids", "pids.current"))
		return n
	}
	if !waitFor(20*time.Second, func() bool { return current() >= 6 }) {
		t.Fatalf("fork loop did not start: pids.current = %d", current())
	}
	mustExit(t, b.Runo("update", "--pids-limit", strconv.Itoa(limit), b.ID), 0, "update --pids-limit")
	r := loop.Wait()
	// busybox sh gives up at the first failed fork, so finishing all 60
	// iterations means the limit never bit.
	if strings.Contains(r.Stdout, "loop-done") {
		t.Errorf("fork loop ran to completion under pids.max=%d", limit)
	}
	if got := cgroupFile(t, b, "pids", "pids.max"); got != strconv.Itoa(limit) {
		t.Errorf("pids.max = %q, want %d", got, limit)
	}
	if n := current(); n > limit {
		t.Errorf("pids.current = %d above the updated limit %d", n, limit)
	}
	if n := len(psJSON(t, b)); n > limit {
		t.Errorf("ps lists %d processes, above the limit %d", n, limit)
	}
	assertMentions(t, r.Stderr, "fork")
}

// statsEvent is the shape of one `events` line.
type statsEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
		} `json:"pids"`
	} `json:"data"`
}

func parseEvents(t *testing.T, out string) []statsEvent {
	t.Helper()
	var evs []statsEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var ev statsEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("events line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestEventsStats(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(256 << 20))}
	})
	execDetached(t, b, nil, sleeper...)
	r := b.Runo("events", "--stats", b.ID)
	mustExit(t, r, 0, "events --stats")
	evs := parseEvents(t, r.Stdout)
	if len(evs) != 1 {
		t.Fatalf("events --stats printed %d objects, want 1:\n%s", len(evs), r.Stdout)
	}
	ev := evs[0]
	if ev.Type != "stats" || ev.ID != b.ID || ev.Data == nil {
		t.Fatalf("event = %+v, want type stats id %s with data", ev, b.ID)
	}
	if ev.Data.CPU.Usage.Total == 0 {
		t.Errorf("cpu.usage.total is 0")
	}
	if ev.Data.Memory.Usage.Usage == 0 {
		t.Errorf("memory.usage.usage is 0")
	}
	if ev.Data.Memory.Usage.Limit != 256<<20 {
		t.Errorf("memory.usage.limit = %d, want %d", ev.Data.Memory.Usage.Limit, 256<<20)
	}
	if ev.Data.Pids.Current != 2 {
		t.Errorf("pids.current = %d, want 2 (init and the exec'd sleep)", ev.Data.Pids.Current)
	}
}

// startEvents runs `events` in the background with stdout in a file of ours
// so it can be read while the command runs.
func startEvents(t *testing.T, b *testbundle.Bundle, flags ...string) (out string, wait func() testbundle.Result) {
	t.Helper()
	out = filepath.Join(t.TempDir(), "events.out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	c := b.Command(append(append([]string{"events"}, flags...), b.ID)...)
	c.Stdout = f
	c.Start()
	done := make(chan testbundle.Result, 1)
	go func() { done <- c.Wait() }()
	return out, func() testbundle.Result {
		select {
		case r := <-done:
			return r
		case <-time.After(20 * time.Second):
			t.Fatalf("events did not exit after the container stopped")
		}
		return testbundle.Result{}
	}
}

func readEvents(t *testing.T, path string) []statsEvent {
	t.Helper()
	data, _ := os.ReadFile(path)
	// The last line may still be being written.
	s := string(data)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i+1]
	} else {
		s = ""
	}
	return parseEvents(t, s)
}

// TestEventsStream: stats lines arrive at the interval and events exits when
// the container stops (runo-specific: runc 1.1 keeps running).
func TestEventsStream(t *testing.T) {
	t.Parallel()
	b, _ := startSleeper(t, nil)
	out, wait := startEvents(t, b, "--interval", "100ms")
	if !waitFor(15*time.Second, func() bool { return len(readEvents(t, out)) >= 4 }) {
		t.Fatalf("fewer than 4 stats lines in 15s at --interval 100ms:\n%s", waitFile(t, out, time.Second))
	}
	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	r := wait()
	mustExit(t, r, 0, "events")
	for _, ev := range readEvents(t, out) {
		if ev.Type != "stats" || ev.ID != b.ID || ev.Data == nil {
			t.Errorf("event %+v, want stats for %s", ev, b.ID)
		}
	}
}

func TestEventsOOM(t *testing.T) {
	t.Parallel()
	if testbundle.V1Path("memory", "/") == "" {
		t.Skip("cgroup v1 memory controller not mounted on this host")
	}
	const limit = 16 << 20
	b, _ := startSleeper(t, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(limit)), Swap: ptr(int64(limit))}
	})
	out, wait := startEvents(t, b, "--interval", "100ms")
	// The OOM counter baseline is taken when events starts.
	if !waitFor(15*time.Second, func() bool { return len(readEvents(t, out)) >= 1 }) {
		t.Fatal("events printed nothing")
	}
	r := execIn(b, nil, sh("x=a; while :; do x=$x$x; done")...)
	mustExit(t, r, 128+9, "memory hog")
	hasOOM := func() bool {
		for _, ev := range readEvents(t, out) {
			if ev.Type == "oom" {
				if ev.ID != b.ID {
					t.Errorf("oom event id %q, want %q", ev.ID, b.ID)
				}
				return true
			}
		}
		return false
	}
	if !waitFor(10*time.Second, hasOOM) {
		t.Errorf("no oom event after the hog was OOM-killed (memory.oom_control: %q)",
			cgroupFile(t, b, "memory", "memory.oom_control"))
	}
	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	mustExit(t, wait(), 0, "events")
}
