package main

import (
	"io"
	"os"

	"github.com/containerd/console"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/internal/sigrelay"
	"github.com/runo-dev/runo/libcontainer"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and run a container",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
	}, createFlags...),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		detach := c.Bool("detach")
		opts, err := createOpts(c, detach)
		if err != nil {
			return err
		}
		if !detach {
			// Catch signals before the container exists, so none is lost in between.
			relay, err := sigrelay.Catch()
			if err != nil {
				return err
			}
			if !c.Bool("no-subreaper") {
				unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
			}
			return runForeground(opts, relay, c.Bool("keep"))
		}
		ct, err := libcontainer.Create(opts)
		if err != nil {
			return err
		}
		if err := ct.Start(); err != nil {
			ct.Delete(true)
			return err
		}
		return nil
	},
}

// runForeground creates and starts the container, relays signals (and the terminal) to it,
// and returns its exit status as an exitError (128+signal when it was killed).
func runForeground(opts libcontainer.CreateOpts, relay *sigrelay.Relay, keep bool) error {
	ct, err := libcontainer.Create(opts)
	if err != nil {
		return err
	}
	var restore func()
	if ct.Console != nil {
		restore = relayConsole(ct.Console)
	}
	if err := ct.Start(); err != nil {
		ct.Delete(true)
		if restore != nil {
			restore()
		}
		return err
	}
	pid := ct.State().InitPid
	opts.Log.Debugf("container %s started", opts.ID)
	status := waitForeground(pid, relay, ct.Console)
	opts.Log.Debugf("container %s exited with %d", opts.ID, status)
	// Delete before draining the terminal: it kills what is left in the container, so the pty
	// reaches EOF.
	if !keep {
		if err := ct.Delete(true); err != nil {
			opts.Log.Warnf("delete container: %v", err)
		}
		opts.Log.Debugf("container %s deleted", opts.ID)
	}
	if restore != nil {
		restore()
	}
	return &exitError{code: status}
}

// waitForeground forwards signals to pid until it exits, reaping every child (runo is a
// subreaper), and returns the exit code.
func waitForeground(pid int, relay *sigrelay.Relay, pty *os.File) int {
	wait := unix.WNOHANG
	for {
		// Reap whatever has exited; init's status ends the loop.
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, wait, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil || wpid <= 0 {
				break
			}
			if wpid == pid {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
		sigs, err := relay.Next()
		if err != nil {
			// The pipe is runo's own, so this does not happen; if it did, waiting is all
			// that is left.
			wait = 0
			continue
		}
		for _, sig := range sigs {
			switch sig {
			case unix.SIGCHLD:
			case unix.SIGWINCH:
				if pty != nil {
					resizePty(pty)
				}
			default:
				unix.Kill(pid, sig)
			}
		}
	}
}

// relayConsole copies stdin to the pty and the pty to stdout, with the local terminal in raw
// mode; the returned func restores it and waits for the output to drain.
func relayConsole(master *os.File) func() {
	var cur console.Console
	if c, err := console.ConsoleFromFile(os.Stdin); err == nil {
		if err := c.SetRaw(); err == nil {
			cur = c
		}
	}
	// The pty was sized and its ONLCR cleared before the process started (libcontainer).
	go io.Copy(master, os.Stdin)
	done := make(chan struct{})
	go func() {
		io.Copy(os.Stdout, master)
		close(done)
	}()
	return func() {
		<-done
		if cur != nil {
			cur.Reset()
		}
		master.Close()
	}
}

func resizePty(master *os.File) {
	ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
}
