package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runo-dev/runo/cgroups"
)

// Pause freezes every process of a running (or created) container.
func (c *Container) Pause() error {
	lk, err := c.lock()
	if err != nil {
		return err
	}
	defer lk.Close()
	switch c.Status() {
	case StatusRunning, StatusCreated:
	case StatusPaused:
		return fmt.Errorf("container already paused")
	default:
		return ErrNotRunning
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Freeze(); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	lk, err := c.lock()
	if err != nil {
		return err
	}
	defer lk.Close()
	if c.Status() != StatusPaused {
		return fmt.Errorf("container not paused")
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Thaw(); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// Pids lists the host pids of every process in the container's cgroup.
func (c *Container) Pids() ([]int, error) {
	if c.Status() == StatusStopped {
		return nil, ErrNotRunning
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.Pids()
}

// Stats reads the container's cgroup counters.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == StatusStopped {
		return nil, ErrNotRunning
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.Stats()
}

// Update applies new resource limits to a running container and records them, so the next
// update starts from them.
func (c *Container) Update(apply func(*specs.LinuxResources) error) error {
	lk, err := c.lock()
	if err != nil {
		return err
	}
	defer lk.Close()
	if c.Status() == StatusStopped {
		return ErrNotRunning
	}
	spec := c.state.Config
	if spec == nil || spec.Linux == nil {
		return fmt.Errorf("update: the container's config was not recorded")
	}
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	if err := apply(spec.Linux.Resources); err != nil {
		return err
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Set(cgroupResources(spec)); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return c.state.save(c.dir)
}

// OOMKills is the number of OOM kills in the container's cgroup so far.
func (c *Container) OOMKills() (uint64, error) {
	m, err := c.cgroup()
	if err != nil {
		return 0, err
	}
	return cgroups.OOMKills(m)
}
