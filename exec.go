package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/runo-dev/runo/internal/sigrelay"
	"github.com/runo-dev/runo/libcontainer"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "execute new process inside the container",
	ArgsUsage: "<container-id> <command> [command options]  ||  -p process.json <container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"},
		&cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "UID (format: <uid>[:<gid>])"},
		&cli.StringSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to the process.json"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		&cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability to the bounding set for the process"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>."},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	SkipFlagParsing: false,
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, false); err != nil {
			return execFailed(err)
		}
		subAll, subBy, err := parseSubCgroups(c.StringSlice("cgroup"))
		if err != nil {
			return execFailed(err)
		}
		ct, err := loadContainer(c)
		if err != nil {
			return execFailed(err)
		}
		proc, err := execProcess(c, ct.State().Config)
		if err != nil {
			return execFailed(err)
		}
		detach := c.Bool("detach")
		var relay *sigrelay.Relay
		if !detach {
			if relay, err = sigrelay.Catch(); err != nil {
				return execFailed(err)
			}
		}
		ex, err := ct.Exec(libcontainer.ExecOpts{
			Process: proc, ConsoleSocket: c.String("console-socket"), PidFile: c.String("pid-file"),
			PidfdSocket: c.String("pidfd-socket"), SubCgroup: subAll, SubCgroups: subBy,
			Detach: detach, PreserveFds: c.Int("preserve-fds"), IgnorePaused: c.Bool("ignore-paused"),
			Log: loggerOf(c),
		})
		if err != nil {
			return execFailed(err)
		}
		if detach {
			return nil
		}
		var restore func()
		if ex.Console != nil {
			restore = relayConsole(ex.Console)
		}
		status := waitForeground(ex.Pid, relay, ex.Console)
		if restore != nil {
			restore()
		}
		return &exitError{code: status}
	},
}

// execFailed makes runo exit 255 for an exec that never started, as runc does.
func execFailed(err error) error {
	return &codedError{err: err, code: 255}
}

// execProcess builds the process to run: -p's JSON, or the container's process with the
// command line and the flags applied.
func execProcess(c *cli.Context, cfg *specs.Spec) (*specs.Process, error) {
	if cfg == nil || cfg.Process == nil {
		return nil, errors.New("the container's process config was not recorded")
	}
	if path := c.String("process"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		return &p, nil
	}
	if c.NArg() < 2 {
		return nil, fmt.Errorf("exec: no command given (args or --process)")
	}
	p := *cfg.Process
	p.Args = c.Args().Tail()
	p.Terminal = c.Bool("tty")
	p.ConsoleSize = nil
	p.Env = append(append([]string{}, p.Env...), c.StringSlice("env")...)
	if c.IsSet("cwd") {
		p.Cwd = c.String("cwd")
	}
	if u := c.String("user"); u != "" {
		uid, gid, hasGid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User.UID = uid
		if hasGid {
			p.User.GID = gid
		}
	}
	for _, g := range c.StringSlice("additional-gids") {
		gid, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--additional-gids: %q is not a numeric gid", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	if c.IsSet("process-label") {
		p.SelinuxLabel = c.String("process-label")
	}
	if c.IsSet("apparmor") {
		p.ApparmorProfile = c.String("apparmor")
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		var pc specs.LinuxCapabilities
		if p.Capabilities != nil {
			pc = *p.Capabilities
		}
		add := func(set []string) []string { return append(append([]string{}, set...), caps...) }
		pc.Bounding, pc.Effective, pc.Permitted = add(pc.Bounding), add(pc.Effective), add(pc.Permitted)
		p.Capabilities = &pc
	}
	return &p, nil
}

// parseUser reads "uid[:gid]" strictly: decimal numbers that fit 32 bits and nothing else, so a
// malformed value can never run the process as some other user (cf. crun CVE-2026-30892).
func parseUser(s string) (uid, gid uint32, hasGid bool, err error) {
	us, gs, hasGid := strings.Cut(s, ":")
	num := func(v, what string) (uint32, error) {
		if v == "" || strings.TrimLeft(v, "0123456789") != "" {
			return 0, fmt.Errorf("--user %q: %s must be a decimal number", s, what)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0xFFFFFFFF {
			return 0, fmt.Errorf("--user %q: %s out of range", s, what)
		}
		return uint32(n), nil
	}
	if uid, err = num(us, "uid"); err != nil {
		return 0, 0, false, err
	}
	if hasGid {
		if gid, err = num(gs, "gid"); err != nil {
			return 0, 0, false, err
		}
	}
	return uid, gid, hasGid, nil
}

// parseSubCgroups reads exec --cgroup values: "path" (every hierarchy) or
// "ctrl[,ctrl...]:path" (those v1 controllers).
func parseSubCgroups(vals []string) (all string, by map[string]string, err error) {
	for _, v := range vals {
		ctrls, path, ok := strings.Cut(v, ":")
		if !ok {
			if all != "" {
				return "", nil, fmt.Errorf("--cgroup: more than one default sub-cgroup (%q, %q)", all, v)
			}
			all = v
			continue
		}
		if path == "" || ctrls == "" {
			return "", nil, fmt.Errorf("--cgroup: %q is not [<controller>:]<cgroup>", v)
		}
		if by == nil {
			by = map[string]string{}
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if _, dup := by[ctrl]; dup {
				return "", nil, fmt.Errorf("--cgroup: controller %q given twice", ctrl)
			}
			by[ctrl] = path
		}
	}
	return all, by, nil
}
