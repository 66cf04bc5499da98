// Package integration drives the built runtime binary ($RUNO_BINARY, default
// bin/runo) through real containers. Every test also runs against runc
// (RUNO_BINARY=$(command -v runc)) except where a comment marks it
// runo-specific: those assert the spec-strict behaviour where runo
// deliberately differs from runc and are expected to fail on runc.
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

func TestMain(m *testing.M) {
	bin := testbundle.Binary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("RUNO_REQUIRE_BINARY") == "" {
			fmt.Printf("SKIP integration tests: runtime binary %s not found (run `make build`, or set RUNO_BINARY)\n", bin)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "integration tests: runtime binary %s: %v (RUNO_REQUIRE_BINARY is set)\n", bin, err)
		os.Exit(1)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests must run as root: containers use real namespaces, mounts and cgroups")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// progName is the runtime's name as it prints it ("runo", or "runc" when the
// suite is validated against runc).
func progName() string { return filepath.Base(testbundle.Binary()) }

func sh(script string) []string { return []string{"sh", "-c", script} }

// runOut runs args in a fresh container (foreground) and returns stdout.
func runOut(t *testing.T, mutate func(*specs.Spec), args ...string) string {
	t.Helper()
	b := testbundle.New(t)
	if mutate != nil {
		b.Mutate(mutate)
	}
	return b.MustRunOK(args...)
}

// oneErrorLine asserts that a failed command printed exactly one non-empty
// line on stderr and that it mentions every word in want (case-insensitive).
func oneErrorLine(t *testing.T, r testbundle.Result, want ...string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("want exactly one stderr line, got %d:\n%s", len(lines), r.Stderr)
	}
	assertMentions(t, r.Stderr, want...)
}

func assertMentions(t *testing.T, text string, want ...string) {
	t.Helper()
	low := strings.ToLower(text)
	for _, w := range want {
		if !strings.Contains(low, strings.ToLower(w)) {
			t.Errorf("output does not mention %q:\n%s", w, text)
		}
	}
}

func mustExit(t *testing.T, r testbundle.Result, code int, what string) {
	t.Helper()
	if r.ExitCode != code {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.ExitCode, code, r.Stdout, r.Stderr)
	}
}

func removeNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != typ {
			out = append(out, ns)
		}
	}
	s.Linux.Namespaces = out
}

func setNamespace(s *specs.Spec, typ specs.LinuxNamespaceType, path string) {
	removeNamespace(s, typ)
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

func removeMount(s *specs.Spec, dest string) {
	var out []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination != dest {
			out = append(out, m)
		}
	}
	s.Mounts = out
}

func allCaps(s *specs.Spec, caps ...string) {
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}
}
