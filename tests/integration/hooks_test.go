package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

type hookRecord struct {
	name  string
	state specs.State
	raw   string
}

// recordingHooks installs every hook kind; each appends "<name> <state JSON
// from stdin>" to a log. Hooks running in the runtime namespace see the host
// dir; startContainer runs after pivot_root and sees the /hooklog bind mount.
func recordingHooks(t *testing.T, b *testbundle.Bundle) (logFile string) {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	logFile = filepath.Join(dir, "log")
	hook := func(name string) specs.Hook {
		script := `if [ -d ` + dir + ` ]; then f=` + logFile + `; else f=/hooklog/log; fi; ` +
			`printf '%s %s\n' ` + name + ` "$(tr -d '\n')" >> $f`
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", script}}
	}
	b.Mutate(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hooklog", Type: "bind", Source: dir, Options: []string{"bind"}})
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hook("prestart")},
			CreateRuntime:   []specs.Hook{hook("createRuntime")},
			CreateContainer: []specs.Hook{hook("createContainer")},
			StartContainer:  []specs.Hook{hook("startContainer")},
			Poststart:       []specs.Hook{hook("poststart")},
			Poststop:        []specs.Hook{hook("poststop")},
		}
	})
	return logFile
}

func readHookLog(t *testing.T, path string) []hookRecord {
	t.Helper()
	data, _ := os.ReadFile(path)
	var out []hookRecord
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		name, raw, _ := strings.Cut(l, " ")
		rec := hookRecord{name: name, raw: raw}
		if err := json.Unmarshal([]byte(raw), &rec.state); err != nil {
			t.Errorf("%s hook read non-JSON state %q: %v", name, raw, err)
		}
		out = append(out, rec)
	}
	return out
}

func hookOrder(recs []hookRecord) string {
	var n []string
	for _, r := range recs {
		n = append(n, r.name)
	}
	return strings.Join(n, ",")
}

// TestHooksOrderAndState checks every hook but poststart, whose timing runc
// gets wrong (see TestPoststartRunsDuringStart).
func TestHooksOrderAndState(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	log := recordingHooks(t, b)
	b.Mutate(func(s *specs.Spec) { s.Hooks.Poststart = nil })

	b.MustCreate()
	if got := hookOrder(readHookLog(t, log)); got != "prestart,createRuntime,createContainer" {
		t.Fatalf("hooks after create: %q", got)
	}
	mustExit(t, b.Runo("start", b.ID), 0, "start")
	if got := hookOrder(readHookLog(t, log)); got != "prestart,createRuntime,createContainer,startContainer" {
		t.Fatalf("hooks after start: %q", got)
	}
	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	mustExit(t, b.Runo("delete", b.ID), 0, "delete")
	recs := readHookLog(t, log)
	if got := hookOrder(recs); got != "prestart,createRuntime,createContainer,startContainer,poststop" {
		t.Fatalf("hooks after delete: %q", got)
	}
	var pid int
	for _, r := range recs {
		if r.state.ID != b.ID || r.state.Bundle != b.Dir {
			t.Errorf("%s hook state id %q bundle %q, want %q %q", r.name, r.state.ID, r.state.Bundle, b.ID, b.Dir)
		}
		if r.state.Version == "" {
			t.Errorf("%s hook state lacks ociVersion: %s", r.name, r.raw)
		}
		if r.name != "poststop" && r.state.Pid <= 0 {
			t.Errorf("%s hook state pid %d: %s", r.name, r.state.Pid, r.raw)
		}
		// Hooks in the runtime namespace see the host pid of the init.
		// (runc reports the in-namespace pid 1 to createContainer and
		// startContainer hooks, so those are not compared.)
		if r.name == "prestart" || r.name == "createRuntime" {
			if pid == 0 {
				pid = r.state.Pid
			} else if r.state.Pid != pid {
				t.Errorf("%s hook state pid %d, earlier hooks saw %d", r.name, r.state.Pid, pid)
			}
		}
	}
	wantStatus := map[string]specs.ContainerState{
		"prestart": specs.StateCreating, "createRuntime": specs.StateCreating, "createContainer": specs.StateCreating,
		"startContainer": specs.StateCreated, "poststart": specs.StateRunning, "poststop": specs.StateStopped,
	}
	for _, r := range recs {
		if r.state.Status != wantStatus[r.name] {
			t.Errorf("%s hook saw status %q, want %q", r.name, r.state.Status, wantStatus[r.name])
		}
	}
}

// runo-specific: runc 1.1 runs poststart hooks during create, before the
// user process has started. The spec says they run after the process starts;
// runo runs them then, before `start` returns.
func TestPoststartRunsDuringStart(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	log := recordingHooks(t, b)
	b.MustCreate()
	if got := hookOrder(readHookLog(t, log)); got != "prestart,createRuntime,createContainer" {
		t.Fatalf("hooks after create: %q", got)
	}
	mustExit(t, b.Runo("start", b.ID), 0, "start")
	// Read at once: poststart must have finished before start returned.
	recs := readHookLog(t, log)
	if got := hookOrder(recs); got != "prestart,createRuntime,createContainer,startContainer,poststart" {
		t.Fatalf("hooks after start: %q", got)
	}
	if st := recs[4].state; st.Status != specs.StateRunning || st.Pid <= 0 {
		t.Errorf("poststart saw status %q pid %d, want running with a pid", st.Status, st.Pid)
	}
}

// TestHookFailures runs its snapshot cases serially: snapshots include this
// process's fds and children.
func TestHookFailures(t *testing.T) {
	failing := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-failed >&2; exit 7"}}
	timeout := 1
	slow := specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &timeout}

	t.Run("failing prestart fails create and leaves nothing", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		b.Mutate(func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{failing}} })
		before := b.Snapshot()
		r := b.Create()
		mustExit(t, r, 1, "create with failing prestart")
		b.AssertUnchanged(before)
	})
	t.Run("failing createRuntime fails create and leaves nothing", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		b.Mutate(func(s *specs.Spec) { s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{failing}} })
		before := b.Snapshot()
		mustExit(t, b.Create(), 1, "create with failing createRuntime")
		b.AssertUnchanged(before)
	})
	// runtime-spec v1.3.0 lifecycle steps 3-5: a failing prestart, createRuntime or
	// createContainer hook continues the lifecycle at destroy (step 12), whose poststop hooks
	// (step 13) must run so they can undo what the others set up.
	for _, tc := range []struct {
		name string
		set  func(*specs.Hooks, specs.Hook)
	}{
		{"prestart", func(h *specs.Hooks, f specs.Hook) { h.Prestart = []specs.Hook{f} }},
		{"createRuntime", func(h *specs.Hooks, f specs.Hook) { h.CreateRuntime = []specs.Hook{f} }},
		{"createContainer", func(h *specs.Hooks, f specs.Hook) { h.CreateContainer = []specs.Hook{f} }},
	} {
		t.Run("failing "+tc.name+" runs poststop", func(t *testing.T) {
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			marker := filepath.Join(b.Dir, "poststop-ran")
			b.Mutate(func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}}}
				tc.set(s.Hooks, failing)
			})
			before := b.Snapshot()
			mustExit(t, b.Create(), 1, "create with failing "+tc.name)
			if _, err := os.Stat(marker); err != nil {
				t.Errorf("poststop hook did not run after the failed create: %v", err)
			}
			b.AssertUnchanged(before)
		})
	}
	t.Run("a create that fails before its hooks runs no poststop", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		marker := filepath.Join(b.Dir, "poststop-ran")
		b.Mutate(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}}}
			// Fails in init while mounting, before the hooks' turn.
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=not-a-size"}})
		})
		before := b.Snapshot()
		if r := b.Create(); r.ExitCode == 0 {
			t.Fatalf("create with a bad tmpfs size succeeded")
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("poststop hook ran although no create-phase hook had started")
		}
		b.AssertUnchanged(before)
	})
	t.Run("hook timeout", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		b.Mutate(func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{slow}} })
		before := b.Snapshot()
		r := b.Create()
		mustExit(t, r, 1, "create with a hook exceeding its timeout")
		if r.Duration > 10*time.Second {
			t.Errorf("create took %v with a 1s hook timeout", r.Duration)
		}
		assertMentions(t, r.Stderr, "time")
		b.AssertUnchanged(before)
	})
	// runtime-spec v1.3.0 lifecycle step 9: a failing poststart hook MUST generate an error,
	// stop the container and continue at destroy (runc 1.1 warns and keeps it running). The
	// poststop hook of the destroy step runs too.
	t.Run("failing poststart fails start and destroys the container", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		marker := filepath.Join(b.Dir, "poststop-ran")
		b.Mutate(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{
				Poststart: []specs.Hook{failing},
				Poststop:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marker}}},
			}
		})
		before := b.Snapshot()
		b.MustCreate()
		r := b.Runo("start", b.ID)
		mustExit(t, r, 1, "start with failing poststart")
		assertMentions(t, r.Stderr, "poststart")
		if r := b.Runo("state", b.ID); r.ExitCode == 0 {
			t.Errorf("container still exists after its poststart hook failed: %s", r.Stdout)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("poststop hook did not run on destroy: %v", err)
		}
		b.AssertUnchanged(before)
	})
	// Likewise a failing startContainer hook (step 7).
	t.Run("failing startContainer fails start and destroys the container", func(t *testing.T) {
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		b.Mutate(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 3"}}}}
		})
		before := b.Snapshot()
		b.MustCreate()
		r := b.Runo("start", b.ID)
		mustExit(t, r, 1, "start with failing startContainer")
		assertMentions(t, r.Stderr, "startContainer")
		b.AssertUnchanged(before)
	})
	// runo-specific: likewise a failing poststop hook only warns, and the
	// container is deleted.
	t.Run("failing poststop warns only", func(t *testing.T) {
		t.Parallel()
		b := testbundle.New(t, testbundle.WithArgs(sleeper...))
		b.Mutate(func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{failing}} })
		b.MustCreate()
		mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
		if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		r := b.Runo("delete", b.ID)
		mustExit(t, r, 0, "delete with failing poststop")
		assertMentions(t, r.Stderr, "poststop")
		if r := b.Runo("state", b.ID); r.ExitCode == 0 {
			t.Errorf("container still exists after delete")
		}
	})
}
