// Package cgroups places containers in control groups and applies their resource limits.
//
// One Manager interface hides the host layout: cgroup v1, pure cgroup v2 (unified), and the
// "hybrid" v1 layout with a cgroup2 mount at /sys/fs/cgroup/unified. Callers never look at
// the layout; they ask New for a manager and use it.
package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Manager controls one container's cgroup (one directory per v1 hierarchy, or one v2 directory).
type Manager interface {
	// Create makes the cgroup directories (and, on v1, initialises cpuset.cpus/mems from the
	// parent) without moving any process. Creating an existing cgroup is not an error.
	Create() error
	// Apply moves the process pid (all its threads) into the cgroup, which Create must have
	// made: it never creates directories, so joining a cgroup that has vanished (exec into a
	// container whose cgroup was removed) fails instead of leaving an orphan nobody removes.
	Apply(pid int) error
	// Set writes the resource limits. A value the host cannot apply is an error naming it.
	Set(r *specs.LinuxResources) error
	// Freeze and Thaw pause or resume every process in the cgroup and wait until done.
	Freeze() error
	Thaw() error
	// Frozen reports whether the cgroup is frozen.
	Frozen() (bool, error)
	// Pids lists the host pids of every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Kill sends sig to every process in the cgroup (cgroup.kill for SIGKILL on v2 when
	// present, otherwise freeze, signal every pid, thaw).
	Kill(sig int) error
	// Stats reads the usage counters.
	Stats() (*Stats, error)
	// Destroy removes the cgroup directories that this container created (retrying while
	// processes exit). Destroying a missing cgroup is not an error.
	Destroy() error
	// Paths maps each controller (v1) or "" (v2) to its host directory.
	Paths() map[string]string
	// MountPoints says what a "cgroup" mount inside the container should show when the
	// container has no cgroup namespace of its own: bind mounts of this container's
	// directories. Dest is relative to the mount destination ("" for the cgroup2 root,
	// "memory", "cpu,cpuacct", "unified", ...).
	MountPoints() []MountPoint
	// Unified reports whether the host is pure cgroup v2.
	Unified() bool
}

// MountPoint is one bind mount of a host cgroup directory into the container's cgroup mount.
type MountPoint struct {
	Source string // host directory
	Dest   string // relative to the cgroup mount destination inside the container
	// Symlinks are extra names (relative to the mount destination) that point at Dest, as
	// "cpu" and "cpuacct" do for a combined "cpu,cpuacct" hierarchy.
	Symlinks []string
}

// Config says which cgroup a container uses.
type Config struct {
	// Path is linux.cgroupsPath from the spec: absolute (relative to the hierarchy root),
	// relative (to the cgroup of the runtime process itself, as runc does), or empty
	// (then the relative path ContainerID is used, as runc's cgroupfs driver does).
	Path        string
	ContainerID string
	// Systemd selects the systemd driver (not implemented yet: New returns an error).
	Systemd bool
}

// New (manager.go) returns the manager for a Config on this host's layout; Stats and its
// parts are defined in stats.go.
