package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestTinyMemoryLimit: runo's init joins the container's cgroup only after its own setup, so
// the Go runtime's memory is charged to the caller, not the container: a trivial container runs
// under a 256 KiB memory limit (crun does; runc 1.1 needs 2–4 MiB and fails here). The same
// program reaching its own limit is still OOM-killed, so the limit is really in force.
func TestTinyMemoryLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		limit    int64
		args     []string
		wantCode int
	}{
		{"true under 256KiB", 256 << 10, []string{"/bin/true"}, 0},
		{"echo under 512KiB", 512 << 10, []string{"sh", "-c", "echo ok"}, 0},
		// A shell growing a string past 8 MiB must die under a 4 MiB limit.
		{"hog killed at 4MiB", 4 << 20, []string{"sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"}, 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := testbundle.New(t, testbundle.WithArgs(tt.args...))
			b.Mutate(func(s *specs.Spec) {
				if s.Linux.Resources == nil {
					s.Linux.Resources = &specs.LinuxResources{}
				}
				limit, swap := tt.limit, tt.limit
				s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
			})
			r := b.Run()
			if r.ExitCode != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.ExitCode, tt.wantCode, r.Stdout, r.Stderr)
			}
			if tt.wantCode == 0 && strings.Contains(r.Stderr, "level=error") {
				t.Errorf("unexpected error output: %s", r.Stderr)
			}
		})
	}
}
