package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestCVE_2016_9962_PtraceExecInit: `runc exec` joined the container's pid
// namespace while still holding host fds (the state directory, the init
// pipe), and it was dumpable, so the container's pid 1 could ptrace it or
// open /proc/<pid>/fd/N and take those fds, reaching the host filesystem.
//
// Reproduction: the container's pid 1 is the attacker helper, which watches
// for every process that appears in the pid namespace and, while that process
// is not yet running an image binary, tries PTRACE_ATTACH and opens every fd
// under /proc/<pid>/fd (an O_PATH open is enough to own the fd's file). The
// test runs `exec` 10 times. The attacker runs as plain container root (the
// CVE's setting) and, in a second case, with CAP_SYS_PTRACE.
//
// Why it fails without the defence: nsenter.c makes `runo init`
// non-dumpable before it joins the pid namespace, and init marks its fds
// close-on-exec. Without PR_SET_DUMPABLE(0), once init has dropped to the
// container's capabilities (between setupUser and execve) the plain-root
// attacker passes the ptrace access check, opens the sync socket or the
// binary fd and logs RUNTIME-FD-OPENED, failing the assertion. runc 1.1.5 is
// non-dumpable too and passes.
//
// With CAP_SYS_PTRACE the kernel lets the container bypass "non-dumpable"
// (ptrace_has_cap in the init user namespace), as it does for runc: that case
// reports what the attacker could do and fails only if it could open an fd
// other than stdio naming a directory or regular file that is not the same
// file at that path in the container, i.e. a host file or directory.
func TestCVE_2016_9962_PtraceExecInit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		caps   []string
		strict bool
	}{
		{"container-root", []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, true},
		{"cap-sys-ptrace", []string{"CAP_SYS_PTRACE", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out string
			b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
				out = outDir(t, s)
				s.Process.Args = []string{"/bin/attacker", "ptrace", "30", "/out/log"}
				setCaps(s, tc.caps...)
			}))
			installAttacker(t, b)
			if r := b.Run("-d"); r.ExitCode != 0 {
				t.Fatalf("run -d: exit %d: %s", r.ExitCode, r.Stderr)
			}
			time.Sleep(200 * time.Millisecond) // let the attacker record the processes already there
			for i := 0; i < 10; i++ {
				if r := b.Runo("exec", b.ID, "true"); r.ExitCode != 0 {
					t.Logf("exec %d: exit %d: %s", i, r.ExitCode, firstLine(r.Stderr))
				}
			}
			log := filepath.Join(out, "log")
			if err := os.WriteFile(log+".stop", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) && !strings.Contains(readFileOr(log), "DONE") {
				time.Sleep(100 * time.Millisecond)
			}
			text := readFileOr(log)
			t.Logf("attacker log:\n%s", text)
			if !strings.Contains(text, "DONE") {
				t.Fatalf("the attacker did not finish")
			}
			if !strings.Contains(text, "NEW ") {
				t.Errorf("the attacker never saw an exec'd process: the attack was not exercised")
			}
			for _, l := range strings.Split(text, "\n") {
				bad := strings.HasPrefix(l, "RUNTIME-FD-OPENED") || strings.HasPrefix(l, "RUNTIME-ATTACHED")
				if !bad {
					continue
				}
				if tc.strict || hostPathFd(l) {
					t.Errorf("the container got hold of the runtime: %s", l)
				}
			}
		})
	}
}

// hostPathFd says whether a RUNTIME-FD-OPENED line is a descriptor other
// than stdio (which the caller hands to the process anyway) that names a file
// outside the container's own filesystem view: such an fd reaches the host.
func hostPathFd(line string) bool {
	if !strings.Contains(line, "outside=true") {
		return false
	}
	// A host directory or regular file is a way out (".." from a directory,
	// the runtime's state or binary from a file); a device node such as the
	// host's /dev/null is not.
	if !strings.Contains(line, "kind=dir") && !strings.Contains(line, "kind=file") {
		return false
	}
	for _, stdio := range []string{" fd=0 ", " fd=1 ", " fd=2 "} {
		if strings.Contains(line, stdio) {
			return false
		}
	}
	return true
}
