package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestBadInput: every invalid configuration or argument must fail with exit
// 1 and exactly one error line naming the offending field, and leave the
// host as it was (no mount, cgroup dir, state dir, process or fd). Cases run
// serially because the snapshot includes this process's fds and children.
func TestBadInput(t *testing.T) {
	type tcase struct {
		name string
		// prepare mutates the bundle; it may return the argv to run
		// (default: create --bundle DIR ID).
		prepare func(t *testing.T, b *testbundle.Bundle) []string
		// mentions are words the error line must contain (case-insensitive).
		mentions []string
	}
	spec := func(fn func(s *specs.Spec)) func(t *testing.T, b *testbundle.Bundle) []string {
		return func(t *testing.T, b *testbundle.Bundle) []string { b.Mutate(fn); return nil }
	}
	tests := []tcase{
		// runo-specific: runc's error ("unexpected EOF") does not say which
		// file was malformed.
		{"malformed JSON", func(t *testing.T, b *testbundle.Bundle) []string {
			b.WriteConfig([]byte(`{"ociVersion": "1.0.0", "process": {`))
			return nil
		}, []string{"config.json"}},
		// runo-specific: runc ignores ociVersion.
		{"unsupported ociVersion", spec(func(s *specs.Spec) { s.Version = "9.0.0" }), []string{"ociVersion", "9.0.0"}},
		// runo-specific: runc ignores ociVersion.
		{"ociVersion not semver", spec(func(s *specs.Spec) { s.Version = "one" }), []string{"ociVersion"}},
		{"missing rootfs", spec(func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }), []string{"rootfs"}},
		{"missing process", spec(func(s *specs.Spec) { s.Process = nil }), []string{"process"}},
		{"empty args", spec(func(s *specs.Spec) { s.Process.Args = nil }), []string{"args"}},
		{"relative cwd", spec(func(s *specs.Spec) { s.Process.Cwd = "tmp" }), []string{"cwd"}},
		{"relative namespace path", spec(func(s *specs.Spec) {
			setNamespace(s, specs.NetworkNamespace, "proc/1/ns/net")
		}), []string{"path"}},
		// runo-specific: runc does not check maskedPaths are absolute.
		{"relative maskedPaths entry", spec(func(s *specs.Spec) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "proc/kcore")
		}), []string{"maskedPaths"}},
		{"unknown namespace type", spec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}), []string{"namespace", "bogus"}},
		{"namespace listed twice", spec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
		}), []string{"network"}},
		// runo-specific: runc detects this only inside nsexec and prints
		// three lines, none naming the namespace type.
		{"namespace path of wrong type", func(t *testing.T, b *testbundle.Bundle) []string {
			b.Mutate(func(s *specs.Spec) {
				setNamespace(s, specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/ipc", os.Getpid()))
			})
			return nil
		}, []string{"network"}},
		{"user namespace without mappings", spec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}), []string{"mapping"}},
		// runo-specific: runc only warns about unknown capabilities.
		{"unknown capability", spec(func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_NOT_A_CAP")
		}), []string{"CAP_NOT_A_CAP"}},
		{"unknown rlimit", spec(func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1})
		}), []string{"RLIMIT_BOGUS"}},
		{"hostname without uts namespace", spec(func(s *specs.Spec) {
			removeNamespace(s, specs.UTSNamespace)
		}), []string{"hostname"}},
		// The limits are written while init starts: a refused value must still leave
		// nothing (no cgroup, no init process).
		{"cpuset the host does not have", spec(func(s *specs.Spec) {
			if s.Linux.Resources == nil {
				s.Linux.Resources = &specs.LinuxResources{}
			}
			s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "999"}
		}), []string{"cpu"}},
		{"invalid id ../x", func(t *testing.T, b *testbundle.Bundle) []string {
			return []string{"create", "--bundle", b.Dir, "../x"}
		}, []string{"id"}},
		{"empty id", func(t *testing.T, b *testbundle.Bundle) []string {
			return []string{"create", "--bundle", b.Dir, ""}
		}, []string{"id"}},
		{"bad signal name", func(t *testing.T, b *testbundle.Bundle) []string {
			b.MustCreate()
			return []string{"kill", b.ID, "SIGNOPE"}
		}, []string{"signal", "SIGNOPE"}},
		{"duplicate id", func(t *testing.T, b *testbundle.Bundle) []string {
			b.MustCreate()
			return nil
		}, []string{"already exists"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := testbundle.New(t, testbundle.WithArgs(sleeper...))
			args := tc.prepare(t, b)
			if args == nil {
				args = []string{"create", "--bundle", b.Dir, b.ID}
			}
			before := b.Snapshot()
			r := b.Runo(args...)
			if r.ExitCode != 1 {
				t.Errorf("%v: exit %d, want 1\nstderr: %s", args, r.ExitCode, r.Stderr)
			}
			oneErrorLine(t, r, tc.mentions...)
			b.AssertUnchanged(before)
		})
	}
}

// TestMissingConfig: a bundle without config.json.
func TestMissingConfig(t *testing.T) {
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	if err := os.Remove(filepath.Join(b.Dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	before := b.Snapshot()
	r := b.Create()
	mustExit(t, r, 1, "create without config.json")
	oneErrorLine(t, r, "config.json")
	b.AssertUnchanged(before)
}
