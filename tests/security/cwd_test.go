package security

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// escapeProbe prints the host-root marker if "../"*16 from the working
// directory reaches the host's "/": from a cwd inside the container, ".."
// stops at the container's root, where the marker does not exist.
func escapeProbe() string {
	up := strings.Repeat("../", 16)
	return fmt.Sprintf("pwd; cat %s%s 2>/dev/null && echo ESCAPED; ls %s 2>/dev/null | head -50", up, hostRootMarker()[1:], up)
}

// TestCVE_2024_21626_LeakedFdCwd: runc ≤ 1.1.11 leaked an fd of the host's
// /sys/fs/cgroup into `runc init`, and process.cwd = /proc/self/fd/<that fd>
// (config or `runc exec --cwd`) made the container process start with its
// working directory on the host filesystem; "../../.." then walked the host
// root (the "Leaky Vessels" exploit overwrote host binaries that way).
//
// Reproduction: for every N in 3..10, a container whose cwd is
// /proc/self/fd/N runs a probe that reads the host-root marker through
// "../"*16, and the same is done with `exec --cwd` into a running container.
// Each attempt must either fail or show no marker.
//
// Why it fails without the defences: runo marks every fd >= 3 close-on-exec
// (closeExtraFds, close_range) and then checks getcwd() after chdir (setupUser
// in libcontainer/process.go). Both run before exec, and the cwd is entered in
// init, before exec, while a leaked fd is still open; so with neither the
// CLOEXEC sweep nor the getcwd check (and any host dir fd open in init, as
// runc's cgroup fd was) the chdir lands on the host, the probe prints the
// marker and the "ESCAPED" assertion below fails. runc 1.1.5 fails this test.
func TestCVE_2024_21626_LeakedFdCwd(t *testing.T) {
	probe := escapeProbe()
	check := func(t *testing.T, what string, r testbundle.Result) {
		t.Helper()
		if r.ExitCode == 0 && (strings.Contains(r.Stdout, "ESCAPED") || strings.Contains(r.Stdout, hostRootMarker()[1:])) {
			t.Errorf("%s: the container process reached the host root through its cwd:\n%s", what, r.Stdout)
		}
		t.Logf("%s: exit %d stdout %q stderr %q", what, r.ExitCode, firstLine(r.Stdout), firstLine(r.Stderr))
	}
	for fd := 3; fd <= 10; fd++ {
		cwd := fmt.Sprintf("/proc/self/fd/%d", fd)
		b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
			s.Process.Cwd = cwd
			s.Process.Args = sh(probe)
		}))
		check(t, "run cwd="+cwd, b.Run())
	}

	b := testbundle.New(t, testbundle.WithArgs("sleep", "60"))
	if r := b.Run("-d"); r.ExitCode != 0 {
		t.Fatalf("run -d: exit %d: %s", r.ExitCode, r.Stderr)
	}
	for fd := 3; fd <= 10; fd++ {
		cwd := fmt.Sprintf("/proc/self/fd/%d", fd)
		check(t, "exec --cwd "+cwd, b.Runo("exec", "--cwd", cwd, b.ID, "sh", "-c", probe))
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
