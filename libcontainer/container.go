package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/cgroups"
)

// Logger receives the warnings that do not fail an operation (failed poststart/poststop hooks,
// ignored settings). The CLI's logger implements it.
type Logger interface {
	Warnf(format string, args ...any)
	Debugf(format string, args ...any)
}

// Status values, as the runtime-spec names them.
const (
	StatusCreating = "creating"
	StatusCreated  = "created"
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusStopped  = "stopped"
)

// Container is a handle on one container's state directory.
type Container struct {
	root  string
	dir   string
	state *State
	log   Logger
	// cg is the cgroup manager, made on first use: finding the layout reads the mount table,
	// which one command should do once.
	cg cgroups.Manager
}

// Load opens the container id under root. A missing container is ErrNotExist.
func Load(root, id string, log Logger) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	return &Container{root: root, dir: dir, state: st, log: log}, nil
}

// List loads every container under root, sorted by id; directories without state are skipped.
func List(root string, log Logger) ([]*Container, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	var out []*Container
	for _, e := range entries {
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		c, err := Load(root, e.Name(), log)
		if err != nil {
			continue // being created or deleted right now
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].state.ID < out[j].state.ID })
	return out, nil
}

func (c *Container) ID() string       { return c.state.ID }
func (c *Container) State() *State    { return c.state }
func (c *Container) fifoPath() string { return filepath.Join(c.dir, fifoName) }

// lock serialises operations on this container.
func (c *Container) lock() (*os.File, error) {
	return lockFile(filepath.Join(c.dir, ".lock"))
}

func (c *Container) cgroup() (cgroups.Manager, error) {
	if c.cg != nil {
		return c.cg, nil
	}
	if c.state.Config == nil {
		// Without the config we do not know the cgroup: never guess one to write to.
		return nil, fmt.Errorf("state of %s has no config: its cgroup is unknown", c.state.ID)
	}
	m, err := cgroups.New(cgroups.Config{Path: c.state.cgroupsPath(), ContainerID: c.state.ID})
	if err != nil {
		return nil, err
	}
	c.cg = m
	return m, nil
}

// initAlive reports whether the container's init is still the process we started.
func (c *Container) initAlive() bool {
	if c.state.InitPid <= 0 {
		return false
	}
	st, zombie, err := processStartTime(c.state.InitPid)
	return err == nil && !zombie && st == c.state.InitStartTime
}

// openInit returns a pidfd for the container's init; when init is gone, no file and ifGone.
// A pidfd names one process, not a number: once it is checked to be init (the pid might have
// been reused by another process before it was opened), a signal sent or a wait made through
// it cannot reach anyone else, and it becomes readable when init exits.
func (c *Container) openInit(ifGone error) (*os.File, error) {
	if c.state.InitPid <= 0 {
		return nil, ifGone
	}
	fd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err == unix.ESRCH {
		return nil, ifGone
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", c.state.InitPid, err)
	}
	if !c.initAlive() {
		unix.Close(fd)
		return nil, ifGone
	}
	return os.NewFile(uintptr(fd), "init pidfd"), nil
}

// waitExit waits until the process of pidfd has exited, at most timeout (-1: no limit). It
// reports whether it has.
func waitExit(pidfd *os.File, timeoutMs int) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(pidfd.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, timeoutMs)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("wait for container init: %w", err)
		}
		return n > 0, nil
	}
}

// Status derives the status: stopped (init gone, a zombie, or its pid reused), paused (the
// freezer says so), created (the exec fifo still exists), otherwise running.
func (c *Container) Status() string {
	if !c.initAlive() {
		return StatusStopped
	}
	if m, err := c.cgroup(); err == nil {
		if frozen, err := m.Frozen(); err == nil && frozen {
			return StatusPaused
		}
	}
	if _, err := os.Lstat(c.fifoPath()); err == nil {
		return StatusCreated
	}
	return StatusRunning
}

// OCIState is the JSON that `runo state` prints (runc's shape: the runtime-spec state plus
// created and owner).
type OCIState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func (c *Container) OCIState() OCIState {
	status := c.Status()
	pid := c.state.InitPid
	if status == StatusStopped {
		pid = 0
	}
	return OCIState{
		OCIVersion: specs.Version, ID: c.state.ID, Pid: pid, Status: status,
		Bundle: c.state.Bundle, Rootfs: c.state.Rootfs, Created: c.state.Created,
		Annotations: c.state.annotations(), Owner: c.state.Owner,
	}
}

// specState is the state passed to hooks on stdin.
func (c *Container) specState(status string) specs.State {
	pid := c.state.InitPid
	if status == StatusStopped {
		pid = 0
	}
	return specs.State{
		Version: specs.Version, ID: c.state.ID, Status: specs.ContainerState(status),
		Pid: pid, Bundle: c.state.Bundle, Annotations: c.state.annotations(),
	}
}

// RemoveStale removes the state directory of id when it holds no state.json and no one holds
// its lock: what a `create` killed half-way leaves. Without this its id could never be used
// again. A create in progress holds the lock, so it is left alone.
func RemoveStale(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(dir); err != nil {
				return nil // nothing there
			}
			return os.RemoveAll(dir)
		}
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil // a create is running
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil // it finished meanwhile
	}
	return os.RemoveAll(dir)
}
