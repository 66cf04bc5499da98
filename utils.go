package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/libcontainer"
)

// checkArgs enforces runc's argument counts, with runc's wording.
func checkArgs(c *cli.Context, n int, exact bool) error {
	name := c.Command.Name
	switch {
	case exact && c.NArg() != n:
		return fmt.Errorf("%q requires exactly %d argument(s)", name, n)
	case !exact && c.NArg() < n:
		return fmt.Errorf("%q requires a minimum of %d argument(s)", name, n)
	}
	return nil
}

func loadContainer(c *cli.Context) (*libcontainer.Container, error) {
	id := c.Args().First()
	if id == "" {
		return nil, fmt.Errorf("container id cannot be empty")
	}
	return libcontainer.Load(c.String("root"), id, loggerOf(c))
}

// onContainer is the Action of a command that takes exactly one container id and calls fn
// on that container.
func onContainer(fn func(*cli.Context, *libcontainer.Container) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		return fn(c, ct)
	}
}

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: "", Usage: "path to the root of the bundle directory, defaults to the current directory"},
	&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
	&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
}

// createOpts turns the create/run flags into libcontainer options. LISTEN_FDS (socket
// activation) fds are passed on like runc does: they come first, LISTEN_PID becomes 1.
func createOpts(c *cli.Context, detach bool) (libcontainer.CreateOpts, error) {
	bundle := c.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	preserve := c.Int("preserve-fds")
	if preserve < 0 {
		return libcontainer.CreateOpts{}, fmt.Errorf("--preserve-fds: %d is negative", preserve)
	}
	var env []string
	if v := os.Getenv("LISTEN_FDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return libcontainer.CreateOpts{}, fmt.Errorf("LISTEN_FDS: %q is not a count", v)
		}
		preserve += n
		env = append(env, "LISTEN_FDS="+v, "LISTEN_PID=1")
	}
	return libcontainer.CreateOpts{
		Root: c.String("root"), ID: c.Args().First(), Bundle: bundle,
		ConsoleSocket: c.String("console-socket"), PidFile: c.String("pid-file"), PidfdSocket: c.String("pidfd-socket"),
		NoPivot: c.Bool("no-pivot"), NoNewKeyring: c.Bool("no-new-keyring"),
		PreserveFds: preserve, ExtraEnv: env, Detach: detach, Log: loggerOf(c),
	}, nil
}
