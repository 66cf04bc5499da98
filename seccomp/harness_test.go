package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The real-effect tests re-execute the test binary. The child pins itself to
// the main OS thread, sets no_new_privs, loads the filter (which then covers
// only that thread), runs the probe syscalls on that thread and prints the
// results as JSON.
const (
	childEnv     = "RUNO_SECCOMP_TEST_CHILD"
	childSpecEnv = "RUNO_SECCOMP_TEST_SPEC"
)

func init() {
	if os.Getenv(childEnv) != "" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

type probe struct {
	Nr   uintptr    `json:"nr"`
	Args [6]uintptr `json:"args"`
}

type probeResult struct {
	Ret   uintptr `json:"ret"`
	Errno int     `json:"errno"`
}

type childInput struct {
	Config *specs.LinuxSeccomp `json:"config"`
	Probes []probe             `json:"probes"`
}

func runChild() int {
	var in childInput
	if err := json.Unmarshal([]byte(os.Getenv(childSpecEnv)), &in); err != nil {
		fmt.Fprintln(os.Stderr, "child: decode input:", err)
		return 100
	}
	f, err := Build(in.Config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: build:", err)
		return 101
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child: no_new_privs:", err)
		return 102
	}
	fd, err := f.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: load:", err)
		return 103
	}
	if fd >= 0 {
		state, err := NotifyState(specs.State{Version: specs.Version, ID: "test", Status: specs.StateCreating, Pid: os.Getpid(), Bundle: "/bundle"}, os.Getpid(), in.Config.ListenerMetadata)
		if err == nil {
			err = SendNotifyFd(in.Config.ListenerPath, state, fd)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: send notify fd:", err)
			return 104
		}
		unix.Close(fd)
	}
	results := make([]probeResult, len(in.Probes))
	for i, p := range in.Probes {
		r, _, errno := unix.RawSyscall6(p.Nr, p.Args[0], p.Args[1], p.Args[2], p.Args[3], p.Args[4], p.Args[5])
		results[i] = probeResult{Ret: r, Errno: int(errno)}
	}
	out, err := json.Marshal(results)
	if err != nil {
		return 105
	}
	os.Stdout.Write(out)
	return 0
}

type childRun struct {
	results []probeResult
	status  syscall.WaitStatus
	stderr  string
	pid     int
}

// runSeccompChild runs probes under config in a fresh child process.
func runSeccompChild(t *testing.T, config *specs.LinuxSeccomp, probes []probe) childRun {
	t.Helper()
	in, err := json.Marshal(childInput{Config: config, Probes: probes})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", childSpecEnv+"="+string(in))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	run := childRun{pid: cmd.Process.Pid}
	_ = cmd.Wait()
	run.status = cmd.ProcessState.Sys().(syscall.WaitStatus)
	run.stderr = stderr.String()
	if run.status.Exited() && run.status.ExitStatus() == 0 {
		if err := json.Unmarshal(stdout.Bytes(), &run.results); err != nil {
			t.Fatalf("child output %q: %v", stdout.String(), err)
		}
	}
	return run
}

// mustSucceed fails unless the child exited 0 with one result per probe.
func (r childRun) mustSucceed(t *testing.T, n int) []probeResult {
	t.Helper()
	if !r.status.Exited() || r.status.ExitStatus() != 0 {
		t.Fatalf("child did not exit cleanly: status %v, stderr:\n%s", r.status, r.stderr)
	}
	if len(r.results) != n {
		t.Fatalf("child returned %d results, want %d", len(r.results), n)
	}
	return r.results
}
