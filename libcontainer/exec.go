package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/cgroups"
)

// ExecOpts are the options of `runo exec`.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	PidfdSocket   string
	PidFile       string
	Detach        bool
	PreserveFds   int
	IgnorePaused  bool
	// SubCgroup and SubCgroups are exec --cgroup: run the process in an existing sub-cgroup of
	// the container's cgroup, in every hierarchy (SubCgroup) or per controller (v1).
	SubCgroup  string
	SubCgroups map[string]string
	Log        Logger
}

// Execd is a process started by Exec. For a foreground exec the caller waits for Pid (runo is
// its parent) and relays Console when there is a terminal.
type Execd struct {
	Pid     int
	Console *os.File
}

// ErrExecSetup prefixes the errors of an exec that never started its process ("exec failed:
// …", runc's wording, which engines show).
var ErrExecSetup = errors.New("exec failed")

// Exec starts a new process in every namespace and the cgroup of the running container, with
// its security context (capabilities, seccomp, LSM label, no_new_privs, rlimits) as given in
// o.Process. It goes through the same nsenter bootstrap and init as the container itself.
func (c *Container) Exec(o ExecOpts) (*Execd, error) {
	switch c.Status() {
	case StatusRunning, StatusCreated:
	case StatusPaused:
		if !o.IgnorePaused {
			return nil, fmt.Errorf("%w: cannot exec in a paused container (use --ignore-paused to override)", ErrExecSetup)
		}
	default:
		return nil, fmt.Errorf("%w: cannot exec in a stopped container", ErrExecSetup)
	}
	if c.state.Config == nil {
		return nil, fmt.Errorf("%w: the container's config was not recorded", ErrExecSetup)
	}
	if err := checkTerminalOpts(o.Process.Terminal, o.Detach, o.ConsoleSocket); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExecSetup, err)
	}
	spec := *c.state.Config
	linux := *spec.Linux
	spec.Linux = &linux
	spec.Process = o.Process
	// Join every namespace of the container's init; create none.
	linux.Namespaces = nil
	paths := namespacePaths(c.state.Config, c.state.InitPid)
	for _, t := range nsOrder {
		if p, ok := paths[t]; ok {
			linux.Namespaces = append(linux.Namespaces, specs.LinuxNamespace{Type: t, Path: p})
		}
	}
	linux.TimeOffsets = nil
	spec.Hooks = nil
	if err := validateProcess(&spec); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExecSetup, err)
	}

	b := &builder{c: c, spec: &spec, opts: CreateOpts{
		Root: c.root, ID: c.state.ID, ConsoleSocket: o.ConsoleSocket, PidFile: o.PidFile, PidfdSocket: o.PidfdSocket,
		PreserveFds: o.PreserveFds, Detach: o.Detach, Log: o.Log,
	}, exec: true, subCgroup: o.SubCgroup, subCgroups: o.SubCgroups}
	cg, err := c.cgroup()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExecSetup, err)
	}
	b.cg = cg
	if err := b.spawn(nil); err != nil {
		b.cleanup()
		return nil, fmt.Errorf("%w: %v", ErrExecSetup, err)
	}
	console, err := b.configure()
	if err != nil {
		b.cleanup()
		return nil, fmt.Errorf("%w: %v", ErrExecSetup, err)
	}
	if err := b.publish(); err != nil {
		b.cleanup()
		if console != nil {
			console.Close()
		}
		return nil, err
	}
	b.sync.f.Close()
	return &Execd{Pid: b.pid, Console: console}, nil
}

// joinSubCgroups puts pid into existing sub-cgroups of the container's cgroup (exec
// --cgroup). A controller named explicitly wins over the default for its hierarchy.
func joinSubCgroups(m cgroups.Manager, pid int, all string, by map[string]string) error {
	paths := m.Paths()
	for ctrl := range by {
		if _, ok := paths[ctrl]; !ok {
			return fmt.Errorf("--cgroup: controller %q is not one of the container's cgroups", ctrl)
		}
	}
	subs := map[string]string{}
	explicit := map[string]bool{}
	for ctrl, dir := range paths {
		sub, ok := by[ctrl]
		if !ok {
			if explicit[dir] {
				continue
			}
			sub = all
		}
		subs[dir], explicit[dir] = sub, explicit[dir] || ok
	}
	for dir, sub := range subs {
		clean := filepath.Clean("/" + sub)
		if sub != "" && (filepath.IsAbs(sub) || strings.Contains(sub, "..")) {
			return fmt.Errorf("--cgroup: %q must be a path relative to the container's cgroup", sub)
		}
		target := filepath.Join(dir, clean)
		if _, err := os.Stat(filepath.Join(target, "cgroup.procs")); err != nil {
			return fmt.Errorf("--cgroup: sub-cgroup %s does not exist", target)
		}
		if err := os.WriteFile(filepath.Join(target, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("--cgroup: join %s: %w", target, err)
		}
	}
	return nil
}

// runExec is init's path for `runo exec`: the namespaces are joined already (nsenter.c), the
// rootfs exists; set the process up and exec it.
func (in *initProc) runExec() error {
	proc := in.spec.Process
	caps, err := in.prepare()
	if err != nil {
		return err
	}
	if proc.Terminal {
		if err := in.setupConsole(false); err != nil {
			return err
		}
	}
	if !in.cfg.NoNewKeyring {
		if err := joinSessionKeyring(in.cfg.ID, proc.SelinuxLabel); err != nil {
			return err
		}
	}
	if err := in.setupProcess(caps); err != nil {
		return err
	}
	in.conn.f.Close()
	return execProcess(proc, in.exe)
}
