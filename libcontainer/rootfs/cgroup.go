package rootfs

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroupV2 reports whether the container's cgroup is a unified (v2-only) one.
func cgroupV2(c *Config) bool {
	if len(c.CgroupMounts) > 0 {
		return len(c.CgroupMounts) == 1 && c.CgroupMounts[0].Dest == ""
	}
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// mountCgroup mounts a "cgroup" entry: the real cgroup filesystems when the container has
// its own cgroup namespace, otherwise bind mounts of the container's own cgroup
// directories. It is read-only unless the options explicitly say "rw".
func (r *root) mountCgroup(c *Config, m specs.Mount, dest string, o MountOptions) error {
	if err := checkProcMount(dest, m.Type, nil); err != nil {
		return err
	}
	if o.ClearFlags&unix.MS_RDONLY == 0 {
		o.Flags |= unix.MS_RDONLY
	}
	if cgroupV2(c) {
		if len(c.CgroupMounts) == 0 {
			return errors.New("no cgroup to bind into the container")
		}
		return r.hostFallback(c.CgroupMounts[0].Source, dest, o)
	}
	return r.mountCgroupV1(c, m, dest, o)
}

// mountCgroupV1 builds the v1 layout: a tmpfs holding one directory per hierarchy plus the
// symlinks of combined hierarchies ("cpu" -> "cpu,cpuacct").
func (r *root) mountCgroupV1(c *Config, m specs.Mount, dest string, o MountOptions) error {
	tm := specs.Mount{Source: "tmpfs", Type: "tmpfs", Destination: m.Destination}
	to := MountOptions{Flags: o.Flags &^ (unix.MS_RDONLY | unix.MS_BIND | unix.MS_REC), Data: "mode=755"}
	if err := r.mountTmpfs(tm, dest, to, to.Data); err != nil {
		return err
	}
	sub := o
	sub.Propagation, sub.RecAttr = nil, nil
	for _, cm := range c.CgroupMounts {
		if cm.Dest == "" || strings.Contains(cm.Dest, "/") {
			return fmt.Errorf("bad cgroup hierarchy name %q", cm.Dest)
		}
		d := path.Join(dest, cm.Dest)
		if err := r.hostFallback(cm.Source, d, sub); err != nil {
			return fmt.Errorf("cgroup %s: %w", cm.Dest, err)
		}
		for _, s := range cm.Symlinks {
			if err := r.symlinkIn(dest, cm.Dest, s); err != nil {
				return err
			}
		}
	}
	top, err := r.open(dest, 0)
	if err != nil {
		return err
	}
	defer top.Close()
	var remount uintptr
	if o.Flags&unix.MS_RDONLY != 0 {
		remount = to.Flags | unix.MS_RDONLY
	}
	return finishMount(top, o, remount)
}

// symlinkIn creates dir/name -> target inside the root.
func (r *root) symlinkIn(dir, target, name string) error {
	if strings.Contains(name, "/") {
		return fmt.Errorf("bad cgroup symlink name %q", name)
	}
	d, err := r.open(dir, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Symlinkat(target, int(d.Fd()), name); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("symlink %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
