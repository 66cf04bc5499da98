package security

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// receiveConsole listens on a fresh unix socket and returns its path and a
// channel that yields the pty master the runtime sends over it.
func receiveConsole(t *testing.T) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(hostDir(t, "console"), "sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan *os.File, 1)
	go func() {
		defer close(got)
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) == 0 {
			return
		}
		got <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	return path, got
}

// TestCVE_2025_52565_ConsoleBindRedirect: runc bind-mounted the pty slave
// onto /dev/console by its /dev/pts/N path inside the container, without
// checking what that path was. With a /dev/pts the container controls
// (an image or config bind, or a race on it), /dev/pts/N could be a symlink
// to /proc/sys/kernel/core_pattern: /dev/console became a writable bind of a
// host-global kernel setting.
//
// Reproduction: /dev/pts is bind-mounted from a rootfs directory whose
// "ptmx" points at a real devpts instance mounted at /dev/realpts and whose
// 0..31 are symlinks to /proc/sys/kernel/core_pattern. The container
// (terminal: true, console socket) reports what /dev/console is and writes
// to it. /dev/console must be a character device (the pty), and
// kernel.core_pattern (the host's: it is not namespaced) must not change; the
// test restores it either way.
//
// Why it fails without the defence: runo takes the slave from the master
// with TIOCGPTPEER and binds it through /proc/self/fd, refusing a symlinked
// /dev/console (setupConsole in libcontainer/console.go, MountConsole in
// libcontainer/rootfs/finalize.go); the /dev/pts/N name is never used. A
// runtime that binds "/dev/pts/N" by path follows the symlink: /dev/console
// is core_pattern, the "character special file" assertion fails and the
// container's write changes core_pattern.
func TestCVE_2025_52565_ConsoleBindRedirect(t *testing.T) {
	before := coreGuard(t)
	var out string
	b := testbundle.New(t, testbundle.WithSpec(func(s *specs.Spec) {
		out = outDir(t, s)
		s.Process.Terminal = true
		s.Mounts = withoutMount(s.Mounts, "/dev/pts")
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/dev/realpts", Type: "devpts", Source: "devpts",
				Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			specs.Mount{Destination: "/dev/pts", Type: "bind", Source: "rootfs/fakepts", Options: []string{"rbind"}},
		)
		s.Process.Args = sh(`stat -L -c '%F %t' /dev/console > /out/console; echo runo-cve-2025-52565 > /dev/console; echo done > /out/done; sleep 1`)
	}))
	fake := filepath.Join(b.Rootfs, "fakepts")
	if err := os.Mkdir(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/realpts/ptmx", filepath.Join(fake, "ptmx")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 32; i++ {
		if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(fake, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	sock, masters := receiveConsole(t)
	r := b.Create("--console-socket", sock)
	t.Logf("%s create: exit %d stderr %q", progName(), r.ExitCode, firstLine(r.Stderr))
	if r.ExitCode == 0 {
		select {
		case m := <-masters:
			if m != nil {
				defer m.Close()
				go io.Copy(io.Discard, m)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("no console master received")
		}
		if s := b.Runo("start", b.ID); s.ExitCode != 0 {
			t.Logf("start: exit %d: %s", s.ExitCode, firstLine(s.Stderr))
		}
		waitFor(filepath.Join(out, "done"), 10*time.Second)
		console := strings.TrimSpace(readFileOr(filepath.Join(out, "console")))
		t.Logf("/dev/console in the container: %q", console)
		if !strings.HasPrefix(console, "character special file") {
			t.Errorf("/dev/console is %q, not the pty", console)
		}
	}
	if after := readFile(t, "/proc/sys/kernel/core_pattern"); after != before {
		t.Errorf("kernel.core_pattern changed through /dev/console: %q -> %q", before, after)
	}
}
