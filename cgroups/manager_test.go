package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRemoveTree covers both paths on plain directories: the single rmdir of a leaf and the
// walk that a directory with children needs.
func TestRemoveTree(t *testing.T) {
	cases := []struct {
		name   string
		make   []string // directories to create below the temp dir; "c" is the one removed
		file   string   // a regular file to put in the tree, which rmdir cannot remove
		errSub string
	}{
		{name: "leaf", make: []string{"c"}},
		{name: "missing"},
		{name: "nested", make: []string{"c", "c/x", "c/x/y", "c/z"}},
		{name: "not a cgroup", make: []string{"c"}, file: "c/data", errSub: "directory not empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			for _, d := range tc.make {
				if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(base, tc.file), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(base, "c")
			err := removeTree(dir, time.Now().Add(100*time.Millisecond))
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("removeTree = %v; want error containing %q", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatalf("removeTree: %v", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still exists (%v)", dir, err)
			}
		})
	}
}

// Apply only joins: on a cgroup that Create never made (or that vanished) it must fail and
// leave nothing behind, so no orphan cgroup appears that nobody removes.
func TestApplyWithoutCreate(t *testing.T) {
	m, _ := testManager(t)
	if err := m.Apply(os.Getpid()); err == nil {
		t.Fatal("Apply without Create succeeded")
	}
	for ctrl, p := range m.Paths() {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Apply created %s for %q (%v)", p, ctrl, err)
		}
	}
}
