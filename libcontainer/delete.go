package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Delete removes a stopped container: its cgroup, state and the poststop hooks. A container
// in any other state is refused unless force is set (runtime-spec: delete of a container that
// is not stopped MUST fail — also for "created", where runc and crun kill it silently).
func (c *Container) Delete(force bool) error {
	lk, err := c.lock()
	if err != nil {
		return err
	}
	defer lk.Close()
	status := c.Status()
	if status != StatusStopped {
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.state.ID, status)
		}
		if err := c.killAll(status); err != nil {
			return err
		}
	}
	return c.destroy()
}

// killAll SIGKILLs the container's init and waits for it to be gone; destroy then kills
// whatever else is left in the cgroup (a container without its own pid namespace).
func (c *Container) killAll(status string) error {
	pidfd, err := c.openInit(nil)
	if err != nil {
		return err
	}
	if pidfd != nil {
		defer pidfd.Close()
		if err := unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill container init %d: %w", c.state.InitPid, err)
		}
	}
	if status == StatusPaused {
		// A frozen task cannot die until thawed.
		if m, err := c.cgroup(); err == nil {
			m.Thaw()
		}
	}
	if pidfd == nil {
		return nil
	}
	exited, err := waitExit(pidfd, 10000)
	if err != nil {
		return err
	}
	if !exited {
		return fmt.Errorf("container init %d did not exit after SIGKILL", c.state.InitPid)
	}
	return nil
}

// runPoststop runs the poststop hooks (lifecycle step 13): a failing one only warns, and the
// next ones still run.
func (c *Container) runPoststop() {
	if h := c.state.hooks(); h != nil && len(h.Poststop) > 0 {
		runHooksOnError("poststop", h.Poststop, c.specState(StatusStopped), func(err error) {
			if c.log != nil {
				c.log.Warnf("%v", err)
			}
		})
	}
}

// destroy removes what the container holds on the host. It runs the poststop hooks even when a
// cleanup step fails, and reports the first failure.
func (c *Container) destroy() error {
	var first error
	if m, err := c.cgroup(); err != nil {
		first = err
	} else {
		// Stragglers: processes of a container without its own pid namespace, or still being
		// torn down by the kernel after init died.
		if pids, err := m.Pids(); err == nil && len(pids) > 0 {
			m.Kill(int(unix.SIGKILL))
		}
		if err := m.Destroy(); err != nil {
			first = fmt.Errorf("remove cgroup: %w", err)
		}
	}
	c.runPoststop()
	if err := os.RemoveAll(c.dir); err != nil && first == nil {
		first = fmt.Errorf("remove state: %w", err)
	}
	return first
}
