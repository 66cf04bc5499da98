package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestAncestors(t *testing.T) {
	cases := []struct {
		dir  string
		want []string
	}{
		{"/m/c", []string{"/m"}},
		{"/m/a/b/c", []string{"/m", "/m/a", "/m/a/b"}},
		{"/m/..c", []string{"/m"}}, // a name starting with dots is still below
		{"/m", nil},
		{"/x/c", nil},
		{"/", nil},
	}
	for _, tc := range cases {
		got, err := ancestors("/m", tc.dir)
		if tc.want == nil {
			if err == nil {
				t.Errorf("ancestors(/m, %s) = %q; want an error", tc.dir, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ancestors(/m, %s) = %q, %v; want %q", tc.dir, got, err, tc.want)
		}
	}
}

// TestEnsureControllers runs against a fake three-level tree root/a/c. Files written by the
// code under test start empty, so a "+ctrl" afterwards shows exactly which levels it wrote.
func TestEnsureControllers(t *testing.T) {
	cases := []struct {
		name string
		// files maps paths relative to the root to their initial content.
		files  map[string]string
		ctrls  []string
		want   map[string]string // expected content afterwards
		errSub string
	}{
		{
			// The ancestors' files say nothing is enabled (impossible on a real host): an
			// unwalked tree proves the answer came from c's own cgroup.controllers.
			name: "listed in own controllers: no walk",
			files: map[string]string{"cgroup.controllers": "memory pids", "cgroup.subtree_control": "",
				"a/cgroup.controllers": "", "a/cgroup.subtree_control": "", "a/c/cgroup.controllers": "memory pids"},
			ctrls: []string{"memory", "pids"},
			want:  map[string]string{"cgroup.subtree_control": "", "a/cgroup.subtree_control": ""},
		},
		{
			name: "missing: enabled top-down",
			files: map[string]string{"cgroup.controllers": "memory pids", "cgroup.subtree_control": "",
				"a/cgroup.controllers": "memory pids", "a/cgroup.subtree_control": "", "a/c/cgroup.controllers": "memory"},
			ctrls: []string{"memory", "pids"},
			want:  map[string]string{"cgroup.subtree_control": "+pids", "a/cgroup.subtree_control": "+pids"},
		},
		{
			name: "enabled in root already",
			files: map[string]string{"cgroup.controllers": "memory pids", "cgroup.subtree_control": "pids",
				"a/cgroup.controllers": "pids", "a/cgroup.subtree_control": "", "a/c/cgroup.controllers": ""},
			ctrls: []string{"pids"},
			want:  map[string]string{"cgroup.subtree_control": "pids", "a/cgroup.subtree_control": "+pids"},
		},
		{
			name: "not available in an ancestor",
			files: map[string]string{"cgroup.controllers": "memory pids", "cgroup.subtree_control": "memory",
				"a/cgroup.controllers": "memory", "a/cgroup.subtree_control": "", "a/c/cgroup.controllers": ""},
			ctrls:  []string{"pids"},
			errSub: "controller pids is not available in",
		},
		{
			name:   "own controllers unreadable",
			files:  map[string]string{"cgroup.controllers": "pids", "cgroup.subtree_control": "pids"},
			ctrls:  []string{"pids"},
			errSub: "read controllers of",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "a", "c"), 0o755); err != nil {
				t.Fatal(err)
			}
			for f, v := range tc.files {
				if err := os.WriteFile(filepath.Join(root, f), []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := ensureControllers(root, filepath.Join(root, "a", "c"), tc.ctrls)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("ensureControllers = %v; want error containing %q", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatalf("ensureControllers: %v", err)
			}
			for f, want := range tc.want {
				if got := readTrim(t, filepath.Join(root, f)); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
		})
	}
}
