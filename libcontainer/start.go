package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Start runs the user process of a created container: it opens the exec fifo, which releases
// init to exec, then runs the poststart hooks before returning (runtime-spec: poststart runs
// after the process has started, and `start` reports its outcome).
func (c *Container) Start() error {
	lk, err := c.lock()
	if err != nil {
		return err
	}
	defer lk.Close()
	switch s := c.Status(); s {
	case StatusCreated:
	case StatusStopped:
		return fmt.Errorf("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already running container")
	}
	if err := c.releaseInit(); err != nil {
		return c.abortStart(err)
	}
	if h := c.state.hooks(); h != nil && len(h.Poststart) > 0 {
		if err := runHooks("poststart", h.Poststart, c.specState(StatusRunning)); err != nil {
			return c.abortStart(err)
		}
	}
	return nil
}

// abortStart handles a failed startContainer or poststart hook (or an init that died) as
// runtime-spec v1.3.0 requires: generate an error, stop the container and continue the
// lifecycle at "destroy" (its poststop hooks run too). runc 1.1 only warns for poststart.
func (c *Container) abortStart(cause error) error {
	if err := c.killAll(c.Status()); err != nil && c.log != nil {
		c.log.Warnf("stop container after failed start: %v", err)
	}
	if err := c.destroy(); err != nil && c.log != nil {
		c.log.Warnf("destroy container after failed start: %v", err)
	}
	return cause
}

// releaseInit opens the fifo's read end and waits for init's byte, then for the end of file
// that comes when init's close-on-exec write end goes away at execve: only then has the
// user process been executed, which is when poststart hooks may run. It watches init's pidfd
// meanwhile (a plain blocking open would hang forever if init died first).
func (c *Container) releaseInit() error {
	gone := fmt.Errorf("container init exited before it could start the process")
	pidfd, err := c.openInit(gone)
	if err != nil {
		return err
	}
	defer pidfd.Close()
	fd, err := unix.Open(c.fifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd.Fd()), Events: unix.POLLIN}}
	released := false
	for {
		_, err := unix.Poll(pfd, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait on exec fifo: %w", err)
		}
		if pfd[0].Revents == 0 {
			// Only the pidfd: init exited. (After its byte the fifo's end of file comes
			// first: a process closes its files before it counts as exited.)
			return gone
		}
		var b [1]byte
		r, err := unix.Read(fd, b[:])
		switch {
		case err == unix.EAGAIN:
			continue
		case r == 0 && released:
			// execve closed init's end: the process runs (or its exec failed, which it
			// reports on its own stderr, as with runc).
		case r == 1 && b[0] == fifoStarted && !released:
			released = true
			continue
		case r == 1 && b[0] == fifoHookFailed:
			return fmt.Errorf("startContainer hook failed (its error is on the container's stderr)")
		default:
			return gone
		}
		break
	}
	if err := os.Remove(c.fifoPath()); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	return nil
}
