// Package rootfs builds the container's filesystem view inside its new mount namespace.
//
// Everything here runs in `runo init`, already inside the container's mount namespace (and
// user namespace, if any), before the user process is executed. Every path inside the
// container's rootfs is resolved without following symlinks out of it (openat2
// RESOLVE_IN_ROOT / securejoin) and mounted through /proc/self/fd.
package rootfs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Config is what Setup needs.
type Config struct {
	Spec   *specs.Spec
	Rootfs string // absolute host path of the container's root filesystem
	// Bundle is the bundle directory: relative bind-mount sources are relative to it. When
	// empty they are relative to the current directory.
	Bundle string
	// NoPivot uses MS_MOVE + chroot instead of pivot_root (runc's --no-pivot).
	NoPivot bool
	// CgroupMounts are the host directories of this container's cgroups (see
	// cgroups.Manager.MountPoints): "cgroup" mounts bind them. (A cgroup namespace is
	// created only after the mounts, once init has joined its cgroup, and would show the
	// same view.)
	CgroupMounts []CgroupMount
	// BeforePivot runs after all mounts and devices are in place and before pivot_root; the
	// caller runs the createRuntime/prestart hooks (through the parent) and createContainer
	// hooks there. May be nil.
	BeforePivot func() error
}

// CgroupMount mirrors cgroups.MountPoint without importing that package.
type CgroupMount struct {
	Source   string
	Dest     string
	Symlinks []string
}

// The package's entry points:
//   Setup (setup.go): propagation of "/", rootfs bind, spec mounts (entry.go, mount.go,
//     tmpfs.go, cgroup.go), devices (devices.go), BeforePivot, pivot_root or MS_MOVE+chroot
//     (pivot.go).
//   Finalize, MountConsole (finalize.go): after the pivot.
//   ParseMountOptions, PropagationFlag (options.go): pure option parsing.
// In-root path resolution and fd checks live in secure.go.
