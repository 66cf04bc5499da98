package integration

import (
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/tests/testbundle"
)

// TestPidfdSocket: --pidfd-socket receives a pidfd of the container's init. Sending a signal
// through it (pidfd_send_signal) must reach exactly that process.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	b := testbundle.New(t, testbundle.WithArgs(sleeper...))
	recv := newConsoleReceiver(t)
	b.MustCreate("--pidfd-socket", recv.path)
	pidfd := recv.master(t)
	if pidfd.Name() != "pidfd" {
		t.Errorf("payload name = %q, want pidfd", pidfd.Name())
	}
	st, _ := b.State()
	if err := unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal: %v", err)
	}
	if err := b.WaitStatus(specs.StateStopped, 10*time.Second); err != nil {
		t.Fatalf("container init %d did not die from a signal sent through the pidfd: %v", st.Pid, err)
	}
}
