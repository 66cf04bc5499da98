package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Daemon is a long-running engine process this harness started; it is only
// ever signalled by its own pid.
type Daemon struct {
	Name string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// StartDaemon starts bin with args, stdout and stderr going to logPath.
func StartDaemon(name, logPath, bin string, args ...string) (*Daemon, error) {
	lf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group: a ^C to the harness must not reach the daemon
	// before the harness has removed its containers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &Daemon{Name: name, cmd: cmd, done: make(chan error, 1), log: lf}
	go func() { d.done <- cmd.Wait() }()
	return d, nil
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// WaitSocket waits until a unix socket accepts connections, failing early
// if the daemon exits.
func (d *Daemon) WaitSocket(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("%s exited before listening on %s: %v", d.Name, path, err)
		default:
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: no socket %s after %s", d.Name, path, limit)
}

// Stop sends SIGTERM to the daemon's pid, then SIGKILL after grace.
func (d *Daemon) Stop(ctx context.Context, grace time.Duration) error {
	defer d.log.Close()
	select {
	case <-d.done:
		return nil
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal %s (pid %d): %w", d.Name, d.Pid(), err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(grace):
	case <-ctx.Done():
	}
	d.cmd.Process.Kill()
	<-d.done
	return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s; killed", d.Name, d.Pid(), grace)
}
