package libcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is the error for signalling a stopped container; engines match its text.
var ErrNotRunning = errors.New("container not running")

// Signal sends sig to the container's init, or with all to every process in its cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	status := c.Status()
	if status == StatusStopped && !all {
		return ErrNotRunning
	}
	if status == StatusPaused && sig == unix.SIGKILL {
		// A frozen task dies only once thawed: thaw after the signal is queued, as runc does
		// (other signals stay pending until resume, as they should).
		defer func() {
			if m, err := c.cgroup(); err == nil {
				m.Thaw()
			}
		}()
	}
	if all {
		// Also for a stopped container, as runc: engines (containerd's shim) sweep what is left
		// in the cgroup after init exited, and treat an error as a reason to retry.
		m, err := c.cgroup()
		if err != nil {
			return err
		}
		pids, err := m.Pids()
		if err != nil || len(pids) == 0 {
			return nil // nothing left, or the cgroup is gone already
		}
		if err := m.Kill(int(sig)); err != nil {
			return fmt.Errorf("signal all processes: %w", err)
		}
		return nil
	}
	pidfd, err := c.openInit(ErrNotRunning)
	if err != nil {
		return err
	}
	defer pidfd.Close()
	if err := unix.PidfdSendSignal(int(pidfd.Fd()), sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return ErrNotRunning
		}
		return fmt.Errorf("signal init: %w", err)
	}
	return nil
}
