// Package checks holds runo's cgroup v2 and LSM checks. They need a pure
// cgroup v2 host (or AppArmor/SELinux) and root, which this project's CI host
// is not, so `make test-cgroupv2` and `make test-lsm` (tests/guest/guest.mk)
// compile them with `go test -c` and run the binary in a throwaway qemu guest
// (tests/guest/guestrun.sh). Elsewhere each test skips, naming what is absent.
package checks

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

const cgroupRoot = "/sys/fs/cgroup"

func ptr[T any](v T) *T { return &v }

// requireV2 skips unless /sys/fs/cgroup is a cgroup2 mount (pure v2) and we are root.
func requireV2(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Skip("host is not pure cgroup v2 (/sys/fs/cgroup is not cgroup2); run `make test-cgroupv2`")
	}
}

// requireRuno skips when the runo binary is missing, unless RUNO_REQUIRE_BINARY
// says that is a failure (the guest targets set it).
func requireRuno(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(testbundle.Binary()); err != nil {
		if os.Getenv("RUNO_REQUIRE_BINARY") != "" {
			t.Fatalf("runo binary: %v", err)
		}
		t.Skipf("runo binary %s not built (make build)", testbundle.Binary())
	}
}

// cgFile reads a file of a cgroup given relative to the v2 root.
func cgFile(t *testing.T, cgPath, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgroupRoot, cgPath, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

// keyValue returns the value of key in a flat-keyed file ("oom_kill 1\nmax 3").
func keyValue(content, key string) (int64, bool) {
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			v, err := strconv.ParseInt(f[1], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// heldProc is a shell that waits on its stdin before running its script, so
// that it can be moved into a cgroup and limited before it does anything.
type heldProc struct {
	cmd  *exec.Cmd
	gate io.WriteCloser
	out  bytes.Buffer
	done chan error
}

func startHeld(t *testing.T, script string) *heldProc {
	t.Helper()
	p := &heldProc{cmd: exec.Command("/bin/sh", "-c", "read _ || exit 99; "+script), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	gate, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.gate = gate
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sh: %v", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *heldProc) release(t *testing.T) {
	t.Helper()
	if _, err := p.gate.Write([]byte("go\n")); err != nil {
		t.Fatalf("release: %v", err)
	}
	_ = p.gate.Close()
}

// wait returns the exit code (-signal when killed) once the shell ends.
func (p *heldProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // Cleanup receives it again
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal())
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(d):
		t.Fatalf("shell still running after %v; output %q", d, p.out.String())
		return 0
	}
}
