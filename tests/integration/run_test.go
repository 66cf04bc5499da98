package integration

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"exit 0", []string{"true"}, 0},
		{"exit 1", []string{"false"}, 1},
		{"exit 3", sh("exit 3"), 3},
		{"exit 255", sh("exit 255"), 255},
		// The shell kills itself: 128+signal, as a shell would report it.
		{"self SIGKILL no pidns init", sh("kill -9 $$"), 137},
		{"self SIGTERM no pidns init", sh("kill -15 $$"), 143},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t, testbundle.WithArgs(tc.args...))
			if strings.Contains(tc.name, "no pidns") {
				// pid 1 of a pid namespace cannot be killed by itself: the
				// kernel drops signals to init sent from inside its namespace.
				b.Mutate(func(s *specs.Spec) { removeNamespace(s, specs.PIDNamespace) })
			}
			r := b.Run()
			if r.ExitCode != tc.want {
				t.Fatalf("run %q: exit %d, want %d\nstderr: %s", tc.args, r.ExitCode, tc.want, r.Stderr)
			}
			// A foreground run leaves nothing to delete.
			if r := b.Runo("state", b.ID); r.ExitCode == 0 {
				t.Errorf("container still exists after foreground run: %s", r.Stdout)
			}
		})
	}
}

func TestRunStdio(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sh("echo out; echo err >&2; exit 0")...))
	r := b.Run()
	mustExit(t, r, 0, "run")
	if r.Stdout != "out\n" {
		t.Errorf("stdout = %q, want %q", r.Stdout, "out\n")
	}
	if !strings.Contains(r.Stderr, "err\n") {
		t.Errorf("stderr = %q, want it to contain %q", r.Stderr, "err\n")
	}
}

// TestRunKilledBySIGKILL kills a foreground container from outside with
// `kill ID KILL`; run must report 128+9.
func TestRunKilledBySIGKILL(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	run := b.Command("run", "--bundle", b.Dir, b.ID)
	run.Start()
	if err := b.WaitStatus(specs.StateRunning, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	r := run.Wait()
	if r.ExitCode != 137 {
		t.Fatalf("run exit %d, want 137\nstderr: %s", r.ExitCode, r.Stderr)
	}
}

// relayedSignals are sent to a foreground run or exec; each must reach the container's
// process, a sleep that dies of it (128+signal). runc relays real-time signals and fault
// signals sent with kill too.
var relayedSignals = []struct {
	name string
	sig  syscall.Signal
}{
	{"SIGTERM", syscall.SIGTERM},
	{"SIGHUP", syscall.SIGHUP},
	{"SIGUSR1", syscall.SIGUSR1},
	{"SIGSEGV sent with kill", syscall.SIGSEGV},
	{"SIGRTMIN+3", syscall.Signal(34 + 3)},
}

// TestRunForwardsSignals signals the runtime process of a foreground run.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	for _, tc := range relayedSignals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			// sleep as a pid namespace's init would ignore the signals; keep it an
			// ordinary process so the default action applies.
			b.Mutate(func(s *specs.Spec) { removeNamespace(s, specs.PIDNamespace) })
			run := b.Command("run", "--bundle", b.Dir, b.ID)
			run.Start()
			if err := b.WaitStatus(specs.StateRunning, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := run.Process.Signal(tc.sig); err != nil {
				t.Fatalf("signal runtime: %v", err)
			}
			r := run.Wait()
			if want := 128 + int(tc.sig); r.ExitCode != want {
				t.Fatalf("run exit %d, want %d (%s forwarded)\nstderr: %s", r.ExitCode, want, tc.name, r.Stderr)
			}
		})
	}
}

func TestRunDetached(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	r := b.Run("-d")
	mustExit(t, r, 0, "run -d")
	if r.Duration > 20*time.Second {
		t.Errorf("run -d took %v; it must not wait for the container", r.Duration)
	}
	st := b.MustStatus(specs.StateRunning)
	if st.Pid <= 0 {
		t.Errorf("pid = %d", st.Pid)
	}
	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	mustExit(t, b.Runo("delete", b.ID), 0, "delete")
}

// TestKillSignals: default signal is SIGTERM; a named or numbered signal is
// delivered; the init traps them and reports which arrived.
func TestKillSignals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string // after "kill ID"
		trap string
	}{
		{"default is TERM", nil, "TERM"},
		{"name with SIG", []string{"SIGUSR1"}, "USR1"},
		{"name without SIG", []string{"HUP"}, "HUP"},
		{"number", []string{"10"}, "USR1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t)
			logDir := t.TempDir()
			b.Mutate(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/log", Type: "bind", Source: logDir, Options: []string{"bind"}})
				s.Process.Args = sh("trap 'echo " + tc.trap + " > /log/got; exit 0' " + tc.trap + "; echo ready > /log/ready; while true; do sleep 0.1; done")
			})
			mustExit(t, b.Run("-d"), 0, "run -d")
			waitFile(t, logDir+"/ready", 10*time.Second)
			mustExit(t, b.Runo(append([]string{"kill", b.ID}, tc.args...)...), 0, "kill")
			got := waitFile(t, logDir+"/got", 10*time.Second)
			if strings.TrimSpace(got) != tc.trap {
				t.Errorf("trapped %q, want %q", got, tc.trap)
			}
		})
	}
}

// TestKillAll: --all signals every process in the container's cgroup, and on a stopped
// container it succeeds (runc does; containerd's shim sweeps the cgroup after init exits and
// retries with a delay on error), while a plain kill of a stopped container fails.
func TestKillAll(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t)
	// No pid namespace: killing init does not take the background sleep with it.
	b.Mutate(func(s *specs.Spec) {
		removeNamespace(s, specs.PIDNamespace)
		s.Process.Args = sh("sleep 1000 & exec sleep 1001")
	})
	mustExit(t, b.Run("-d"), 0, "run -d")
	mustExit(t, b.Runo("kill", "--all", b.ID, "KILL"), 0, "kill --all")
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	procs := "/sys/fs/cgroup/pids" + b.Spec.Linux.CgroupsPath + "/cgroup.procs"
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(procs)
		if err != nil {
			t.Fatalf("read %s: %v", procs, err)
		}
		if strings.TrimSpace(string(data)) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left in the cgroup after kill --all: %s", data)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustExit(t, b.Runo("kill", "--all", b.ID, "KILL"), 0, "kill --all of a stopped container")
	r := b.Runo("kill", b.ID, "KILL")
	mustExit(t, r, 1, "kill of a stopped container")
	assertMentions(t, r.Stderr, "container not running")
	mustExit(t, b.Runo("delete", b.ID), 0, "delete")
}
