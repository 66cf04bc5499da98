package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/tests/testbundle"
)

func TestPidFile(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.MustCreate("--pid-file", pidFile)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	st := b.MustStatus(specs.StateCreated)
	if string(data) != strconv.Itoa(st.Pid) {
		t.Errorf("pid file = %q, want %q (no newline)", data, strconv.Itoa(st.Pid))
	}
}

func TestPreserveFds(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sh("cat /proc/self/fd/3; cat <&4; ls /proc/self/fd/5 2>/dev/null && echo LEAKED; true")...))
	f3 := tempWithContent(t, "fd-three\n")
	f4 := tempWithContent(t, "fd-four\n")
	f5 := tempWithContent(t, "fd-five\n")
	c := b.Command("run", "--preserve-fds", "2", "--bundle", b.Dir, b.ID)
	c.ExtraFiles = []*os.File{f3, f4, f5}
	r := c.Run()
	mustExit(t, r, 0, "run --preserve-fds 2")
	if r.Stdout != "fd-three\nfd-four\n" {
		t.Errorf("stdout = %q, want fds 3 and 4 only", r.Stdout)
	}
}

// TestListenFds: with LISTEN_FDS/LISTEN_PID addressed to the runtime, it
// passes fds 3.. on and sets LISTEN_FDS (and LISTEN_PID=1) inside.
func TestListenFds(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sh("echo LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID; cat <&3")...))
	f3 := tempWithContent(t, "socket-activated\n")
	// exec keeps the shell's pid, so LISTEN_PID names the runtime.
	c := testbundle.Command(t)
	c.Path = "/bin/sh"
	c.Args = []string{"sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, testbundle.Binary(),
		"--root", b.Root, "run", "--bundle", b.Dir, b.ID}
	c.ExtraFiles = []*os.File{f3}
	r := c.Run()
	mustExit(t, r, 0, "run with LISTEN_FDS")
	if r.Stdout != "LISTEN_FDS=1 LISTEN_PID=1\nsocket-activated\n" {
		t.Errorf("stdout = %q", r.Stdout)
	}
}

func tempWithContent(t *testing.T, content string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
