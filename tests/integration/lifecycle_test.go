package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// A long-running init. busybox sleep as pid 1 ignores SIGTERM (no handler in
// a pid namespace), so lifecycle tests stop it with SIGKILL.
var sleeper = []string{"sleep", "1000"}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))

	b.MustCreate()
	st := b.MustStatus(specs.StateCreated)
	if st.Pid <= 0 {
		t.Fatalf("created container pid = %d, want > 0", st.Pid)
	}
	if _, err := os.Stat(filepath.Join("/proc", itoa(st.Pid))); err != nil {
		t.Fatalf("init pid %d of created container not alive: %v", st.Pid, err)
	}

	mustExit(t, b.Runo("start", b.ID), 0, "start")
	running := b.MustStatus(specs.StateRunning)
	if running.Pid != st.Pid {
		t.Errorf("pid changed across start: %d -> %d", st.Pid, running.Pid)
	}

	mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	mustExit(t, b.Runo("delete", b.ID), 0, "delete")
	r := b.Runo("state", b.ID)
	if r.ExitCode == 0 {
		t.Fatalf("state after delete succeeded: %s", r.Stdout)
	}
	assertMentions(t, r.Stderr, "does not exist")
	if _, err := os.Stat(filepath.Join(b.Root, b.ID)); !os.IsNotExist(err) {
		t.Errorf("state dir %s still present after delete (err %v)", filepath.Join(b.Root, b.ID), err)
	}
	if _, err := os.Stat(testbundle.V1Path("pids", b.CgroupPath())); !os.IsNotExist(err) {
		t.Errorf("cgroup %s still present after delete (err %v)", b.CgroupPath(), err)
	}
}

// TestLifecycleErrors drives a container into each state and checks the
// operations that state forbids.
func TestLifecycleErrors(t *testing.T) {
	t.Parallel()
	type step struct {
		args     []string // {ID} is replaced by the container id
		wantExit int
		wantErr  string // substring of stderr for failures
	}
	tests := []struct {
		name  string
		setup []string // "create", "start", "stop"
		steps []step
	}{
		{"start twice", []string{"create", "start"}, []step{
			{[]string{"start", "{ID}"}, 1, "running"},
		}},
		{"start a stopped", []string{"create", "start", "stop"}, []step{
			{[]string{"start", "{ID}"}, 1, "stopped"},
		}},
		{"kill a stopped", []string{"create", "start", "stop"}, []step{
			{[]string{"kill", "{ID}", "KILL"}, 1, "container not running"},
		}},
		{"state missing", nil, []step{
			{[]string{"state", "{ID}"}, 1, "does not exist"},
		}},
		{"delete missing", nil, []step{
			{[]string{"delete", "{ID}"}, 1, "does not exist"},
		}},
		{"delete -f missing", nil, []step{
			{[]string{"delete", "-f", "{ID}"}, 0, ""},
		}},
		{"delete running without -f", []string{"create", "start"}, []step{
			{[]string{"delete", "{ID}"}, 1, "running"},
			{[]string{"state", "{ID}"}, 0, ""},
		}},
		{"delete -f running", []string{"create", "start"}, []step{
			{[]string{"delete", "-f", "{ID}"}, 0, ""},
			{[]string{"state", "{ID}"}, 1, "does not exist"},
		}},
		{"delete -f created", []string{"create"}, []step{
			{[]string{"delete", "-f", "{ID}"}, 0, ""},
			{[]string{"state", "{ID}"}, 1, "does not exist"},
		}},
		{"duplicate id", []string{"create"}, []step{
			{[]string{"create", "--bundle", "{BUNDLE}", "{ID}"}, 1, "already exists"},
			{[]string{"state", "{ID}"}, 0, ""},
		}},
		{"kill created", []string{"create"}, []step{
			{[]string{"kill", "{ID}", "KILL"}, 0, ""},
		}},
		// runo-specific: the spec says delete of a non-stopped container
		// MUST fail; runc deletes a created container.
		{"delete created without -f", []string{"create"}, []step{
			{[]string{"delete", "{ID}"}, 1, "created"},
			{[]string{"state", "{ID}"}, 0, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			for _, s := range tc.setup {
				switch s {
				case "create":
					b.MustCreate()
				case "start":
					mustExit(t, b.Runo("start", b.ID), 0, "start")
				case "stop":
					mustExit(t, b.Runo("kill", b.ID, "KILL"), 0, "kill")
					if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, s := range tc.steps {
				args := make([]string, len(s.args))
				for i, a := range s.args {
					a = strings.ReplaceAll(a, "{ID}", b.ID)
					args[i] = strings.ReplaceAll(a, "{BUNDLE}", b.Dir)
				}
				r := b.Runo(args...)
				if r.ExitCode != s.wantExit {
					t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.ExitCode, s.wantExit, r.Stdout, r.Stderr)
				}
				if s.wantErr != "" {
					assertMentions(t, r.Stderr, s.wantErr)
				}
			}
		})
	}
}

func TestInvalidIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"../x", "a/b", "..", ".", "", "x y", "x\ny"} {
		t.Run(strings.NewReplacer("/", "slash", "\n", "nl").Replace(id), func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			r := b.Runo("create", "--bundle", b.Dir, id)
			if r.ExitCode != 1 {
				t.Fatalf("create %q: exit %d, want 1\nstderr: %s", id, r.ExitCode, r.Stderr)
			}
			assertMentions(t, r.Stderr, "id")
			if entries, _ := os.ReadDir(b.Root); len(entries) != 0 {
				t.Errorf("state root not empty after rejected id %q: %v", id, entries)
			}
		})
	}
}

func TestStateJSON(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	before := time.Now().Add(-time.Second)
	b.MustCreate()
	r := b.Runo("state", b.ID)
	mustExit(t, r, 0, "state")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Stdout), &raw); err != nil {
		t.Fatalf("state output is not a JSON object: %v\n%s", err, r.Stdout)
	}
	for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("state JSON lacks %q: %s", k, r.Stdout)
		}
	}
	var st struct {
		specs.State
		Rootfs  string    `json:"rootfs"`
		Created time.Time `json:"created"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("parse state: %v", err)
	}
	if st.ID != b.ID || st.Status != specs.StateCreated || st.Pid <= 0 {
		t.Errorf("state = id %q status %q pid %d; want id %q created pid>0", st.ID, st.Status, st.Pid, b.ID)
	}
	if st.Bundle != b.Dir {
		t.Errorf("bundle = %q, want %q", st.Bundle, b.Dir)
	}
	if st.Rootfs != b.Rootfs {
		t.Errorf("rootfs = %q, want %q", st.Rootfs, b.Rootfs)
	}
	if st.Created.Before(before) || st.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("created = %v, not within the test's run", st.Created)
	}
	if st.Version == "" {
		t.Errorf("ociVersion empty")
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	root := testbundle.RootDir(t)
	a := testbundle.New(t, testbundle.WithRoot(root), testbundle.WithArgs(sleeper...))
	c := testbundle.New(t, testbundle.WithRoot(root), testbundle.WithArgs(sleeper...))
	a.MustCreate()
	c.MustCreate()
	mustExit(t, c.Runo("start", c.ID), 0, "start")

	t.Run("table", func(t *testing.T) {
		r := a.Runo("list")
		mustExit(t, r, 0, "list")
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		if got := strings.Join(strings.Fields(lines[0]), " "); got != "ID PID STATUS BUNDLE CREATED OWNER" {
			t.Fatalf("header = %q", lines[0])
		}
		rows := map[string][]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 6 {
				t.Fatalf("row %q has %d columns, want 6", l, len(f))
			}
			rows[f[0]] = f
		}
		for _, want := range []struct {
			b      *testbundle.Bundle
			status string
		}{{a, "created"}, {c, "running"}} {
			row, ok := rows[want.b.ID]
			if !ok {
				t.Fatalf("list lacks %s:\n%s", want.b.ID, r.Stdout)
			}
			if row[2] != want.status || row[3] != want.b.Dir || row[5] != "root" {
				t.Errorf("row %v: want status %s bundle %s owner root", row, want.status, want.b.Dir)
			}
			if _, err := time.Parse(time.RFC3339Nano, row[4]); err != nil {
				t.Errorf("created %q not RFC3339: %v", row[4], err)
			}
		}
		// Column alignment: each header starts where the values start.
		if i := strings.Index(lines[0], "STATUS"); i < 0 || len(lines[1]) <= i || lines[1][i-1] != ' ' {
			t.Errorf("columns not aligned:\n%s", r.Stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := a.Runo("list", "-f", "json")
		mustExit(t, r, 0, "list -f json")
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
			t.Fatalf("list -f json: %v\n%s", err, r.Stdout)
		}
		ids := map[string]map[string]any{}
		for _, e := range got {
			id, _ := e["id"].(string)
			ids[id] = e
		}
		for _, bb := range []*testbundle.Bundle{a, c} {
			e, ok := ids[bb.ID]
			if !ok {
				t.Fatalf("json list lacks %s: %s", bb.ID, r.Stdout)
			}
			for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
				if _, ok := e[k]; !ok {
					t.Errorf("entry %s lacks %q", bb.ID, k)
				}
			}
		}
	})
	t.Run("quiet", func(t *testing.T) {
		r := a.Runo("list", "-q")
		mustExit(t, r, 0, "list -q")
		got := strings.Fields(r.Stdout)
		want := map[string]bool{a.ID: true, c.ID: true}
		if len(got) != 2 || !want[got[0]] || !want[got[1]] {
			t.Errorf("list -q = %q, want the two ids", r.Stdout)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDeleteForceRemovesStaleState: a create killed half-way leaves a state directory
// without state.json; delete -f removes it so that the id can be used again, while a create
// in progress (holding the lock) would be left alone.
func TestDeleteForceRemovesStaleState(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	stale := filepath.Join(b.Root, b.ID)
	if err := os.MkdirAll(stale, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, ".lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := b.Create()
	mustExit(t, r, 1, "create over a stale state dir")
	assertMentions(t, r.Stderr, "already exists")
	mustExit(t, b.Runo("delete", "-f", b.ID), 0, "delete -f of a stale state dir")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale state dir still there: %v", err)
	}
	b.MustCreate()
	mustExit(t, b.Runo("delete", "-f", b.ID), 0, "delete -f")
}
