package integration

import (
	"fmt"
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

// startSleeper creates and starts a container whose init sleeps, after
// applying mutate to its spec, and returns it with the init's host pid.
func startSleeper(t *testing.T, mutate func(*specs.Spec)) (*testbundle.Bundle, int) {
	t.Helper()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	if mutate != nil {
		b.Mutate(mutate)
	}
	b.MustCreate()
	mustExit(t, b.Runo("start", b.ID), 0, "start")
	st := b.MustStatus(specs.StateRunning)
	return b, st.Pid
}

// stoppedContainer creates and starts a container of `true` and waits until it has exited.
func stoppedContainer(t *testing.T) *testbundle.Bundle {
	t.Helper()
	b := testbundle.New(t, testbundle.WithArgs("true"))
	b.MustCreate()
	mustExit(t, b.Runo("start", b.ID), 0, "start")
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return b
}

// execArgs builds `exec <flags...> <id> <args...>`.
func execArgs(b *testbundle.Bundle, flags []string, args ...string) []string {
	return append(append(append([]string{"exec"}, flags...), b.ID), args...)
}

// execIn runs `exec <flags...> <id> <args...>` in the foreground.
func execIn(b *testbundle.Bundle, flags []string, args ...string) testbundle.Result {
	return b.Runo(execArgs(b, flags, args...)...)
}

// execDetached runs `exec -d --pid-file` and returns the process's host pid.
func execDetached(t *testing.T, b *testbundle.Bundle, flags []string, args ...string) int {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r := execIn(b, append([]string{"-d", "--pid-file", pidFile}, flags...), args...)
	mustExit(t, r, 0, "exec -d")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("exec --pid-file: %v", err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil || pid <= 0 {
		t.Fatalf("exec --pid-file holds %q, want a bare decimal pid", data)
	}
	// The pid file can be written just before the process's final execve (as
	// with runc); callers inspect the command, so wait until it runs.
	if len(args) > 0 {
		want := filepath.Base(args[0])
		if len(want) > 15 {
			want = want[:15]
		}
		if !waitFor(5*time.Second, func() bool { return strings.TrimSpace(procFile(t, pid, "comm")) == want }) {
			t.Fatalf("exec'd pid %d never became %q (comm %q)", pid, want, strings.TrimSpace(procFile(t, pid, "comm")))
		}
	}
	return pid
}

// procNamespaces maps every entry of /proc/<pid>/ns to its link target.
func procNamespaces(t *testing.T, pid int) map[string]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/ns", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	out := map[string]string{}
	for _, e := range entries {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("readlink %s/%s: %v", dir, e.Name(), err)
		}
		out[e.Name()] = l
	}
	return out
}

// procFile reads /proc/<pid>/<name> from the host.
func procFile(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		t.Fatalf("read /proc/%d/%s: %v", pid, name, err)
	}
	return string(data)
}

// psJSON returns the sorted pids `ps -f json` reports.
func psJSON(t *testing.T, b *testbundle.Bundle) []int {
	t.Helper()
	r := b.Runo("ps", "-f", "json", b.ID)
	mustExit(t, r, 0, "ps -f json")
	var pids []int
	s := strings.Trim(strings.TrimSpace(r.Stdout), "[]")
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("ps -f json output %q is not an array of pids", r.Stdout)
		}
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return pids
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// cgroupFile reads a v1 controller file of the bundle's cgroup, trimmed.
func cgroupFile(t *testing.T, b *testbundle.Bundle, controller, file string) string {
	t.Helper()
	dir := testbundle.V1Path(controller, b.CgroupPath())
	if dir == "" {
		t.Skipf("cgroup v1 %s controller not mounted on this host", controller)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return strings.TrimSpace(string(data))
}

// waitFor polls cond until it is true or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return cond()
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// statePaused is the status runc-compatible runtimes report for a frozen
// container; the OCI spec defines no such state, so specs-go has no constant.
const statePaused specs.ContainerState = "paused"
