package integration

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// consoleReceiver listens on a unix socket and hands back the pty master
// the runtime sends with SCM_RIGHTS.
type consoleReceiver struct {
	path string
	ln   *net.UnixListener
	got  chan *os.File
	errs chan error
}

func newConsoleReceiver(t *testing.T) *consoleReceiver {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	r := &consoleReceiver{path: path, ln: ln, got: make(chan *os.File, 1), errs: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go r.accept()
	return r
}

func (r *consoleReceiver) accept() {
	conn, err := r.ln.AcceptUnix()
	if err != nil {
		r.errs <- err
		return
	}
	defer conn.Close()
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		r.errs <- err
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		r.errs <- err
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		r.errs <- err
		return
	}
	unix.CloseOnExec(fds[0])
	r.got <- os.NewFile(uintptr(fds[0]), string(name[:n]))
}

func (r *consoleReceiver) master(t *testing.T) *os.File {
	t.Helper()
	select {
	case f := <-r.got:
		t.Cleanup(func() { f.Close() })
		return f
	case err := <-r.errs:
		t.Fatalf("console socket: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatalf("no console fd received")
	}
	return nil
}

// readUntil reads the pty master until want appears, EOF/EIO, or timeout.
func readUntil(f *os.File, want string, timeout time.Duration) string {
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			buf.Write(b[:n])
			if err != nil || strings.Contains(buf.String(), want) {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		f.SetReadDeadline(time.Now())
		<-done
	}
	return buf.String()
}

func TestConsoleSocket(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t)
	b.Mutate(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 25, Width: 91}
		s.Process.Args = sh("echo hello-tty; tty; stty size; test -t 0 && test -t 1 && test -t 2 && echo all-ttys; sleep 1000")
	})
	recv := newConsoleReceiver(t)
	b.MustCreate("--console-socket", recv.path)
	master := recv.master(t)
	mustExit(t, b.Runo("start", b.ID), 0, "start")
	out := readUntil(master, "all-ttys", 20*time.Second)
	for _, want := range []string{"hello-tty\r\n", "/dev/pts/0\r\n", "25 91\r\n", "all-ttys"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(master.Fd()), &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR {
		t.Errorf("received fd is not a character device (mode %o, err %v)", st.Mode, err)
	}
}

func TestTerminalRequiresConsoleSocket(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	b.Mutate(func(s *specs.Spec) { s.Process.Terminal = true })
	r := b.Create()
	mustExit(t, r, 1, "create with terminal and no --console-socket")
	assertMentions(t, r.Stderr, "console socket")
}
