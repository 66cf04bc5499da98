package sigrelay

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The handlers are process-wide and stay: each check runs in a child process.
func inChild(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), "SIGRELAY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func child() bool { return os.Getenv("SIGRELAY_CHILD") != "" }

func TestRelayed(t *testing.T) {
	sigs := Relayed()
	for _, s := range []unix.Signal{unix.SIGKILL, unix.SIGSTOP, unix.SIGURG, unix.SIGPROF, 32, 33} {
		if slices.Contains(sigs, s) {
			t.Errorf("%v is relayed", s)
		}
	}
	for _, s := range []unix.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGCHLD, unix.SIGWINCH, unix.SIGTSTP, unix.SIGSEGV, 34, 64} {
		if !slices.Contains(sigs, s) {
			t.Errorf("%v is not relayed", s)
		}
	}
}

// TestCatch sends itself signals whose default actions would kill or stop the process, one
// Go would ignore (a real-time one) and a fault signal sent by kill: all arrive. (Another
// thread may take one first: the order is not checked.)
func TestCatch(t *testing.T) {
	if !child() {
		inChild(t, "TestCatch")
		return
	}
	r, err := Catch()
	if err != nil {
		t.Fatal(err)
	}
	want := []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGTSTP, unix.SIGUSR1, unix.Signal(34 + 3), unix.SIGSEGV, unix.SIGCHLD}
	for _, s := range want {
		if err := unix.Kill(os.Getpid(), s); err != nil {
			t.Fatal(err)
		}
	}
	var got []unix.Signal
	for len(got) < len(want) {
		sigs, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sigs...)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("relayed %v, want %v", got, want)
	}
}

// TestFaultStaysGo: after Catch, a nil dereference in runo's own code is still the Go
// runtime's: a panic that recover sees, not a byte in the pipe.
func TestFaultStaysGo(t *testing.T) {
	if !child() {
		inChild(t, "TestFaultStaysGo")
		return
	}
	if _, err := Catch(); err != nil {
		t.Fatal(err)
	}
	var p *int
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "nil pointer dereference") {
			t.Fatalf("recovered %v, want a nil pointer dereference", r)
		}
	}()
	_ = *p
}
