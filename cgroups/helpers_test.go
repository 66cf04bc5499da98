package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testManager returns a real manager for a fresh cgroup "/runo-test-<rand>/<leaf>" whose
// directories (parent included) are removed when the test ends, whatever happens.
func testManager(t *testing.T) (Manager, string) {
	t.Helper()
	requireRoot(t)
	parent := "/" + randomName("runo-test-")
	m, err := New(Config{Path: parent + "/c", ContainerID: "c"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		// Leftover processes would keep the cgroup busy: kill them before removal.
		if pids, err := m.Pids(); err == nil {
			for _, p := range pids {
				_ = syscallKill(p)
			}
		}
		_ = m.Thaw()
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		for _, p := range m.Paths() {
			root := p[:len(p)-len(parent+"/c")]
			_ = os.Remove(filepath.Join(root, parent))
			if _, err := os.Stat(filepath.Join(root, parent)); err == nil {
				t.Errorf("cgroup parent %s left behind", filepath.Join(root, parent))
			}
		}
	})
	return m, parent
}

// startProc starts a command that waits on its stdin before running script, so the test
// can move it into a cgroup first. release lets it go; the process is killed and reaped at
// cleanup.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *strings.Builder
	done  chan error
}

func startProc(t *testing.T, script string) *proc {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "read _go; "+script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	cmd.Stdout = out
	cmd.Stderr = out
	// Its own process group lets cleanup kill the children that hold the output pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q: %v", script, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("process %d not reaped", cmd.Process.Pid)
		}
	})
	return p
}

func (p *proc) release(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		t.Fatalf("release process: %v", err)
	}
}

// wait returns the exit error, or fails the test after timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // keep it for cleanup
		return err
	case <-time.After(timeout):
		t.Fatalf("process did not exit within %v; output: %s", timeout, p.out.String())
		return nil
	}
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.TrimSpace(string(b))
}

func ptrI64(v int64) *int64   { return &v }
func ptrU64(v uint64) *uint64 { return &v }
func ptrU16(v uint16) *uint16 { return &v }
func ptrU32(v uint32) *uint32 { return &v }
func ptrBool(v bool) *bool    { return &v }
