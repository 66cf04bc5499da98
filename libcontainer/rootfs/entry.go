package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/selinux"
)

// errNotSupported marks options runo does not implement yet.
var errNotSupported = errors.New("not supported yet")

// isBindMount says whether a spec mount is a bind mount: any type with a bind option, or
// type "bind".
func isBindMount(m specs.Mount, o MountOptions) bool {
	return o.IsBind() || m.Type == "bind"
}

// mountEntry performs one entry of spec.Mounts inside the root.
func (r *root) mountEntry(c *Config, m specs.Mount) error {
	if err := r.doMountEntry(c, m); err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, m.Type, m.Destination, err)
	}
	return nil
}

func (r *root) doMountEntry(c *Config, m specs.Mount) error {
	o := ParseMountOptions(m.Options)
	if o.IDMap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		return fmt.Errorf("idmapped mounts: %w", errNotSupported)
	}
	if m.Destination == "" {
		return errors.New("empty destination")
	}
	dest := cleanInRoot(m.Destination)
	label := ""
	if c.Spec.Linux != nil {
		label = c.Spec.Linux.MountLabel
	}
	if isBindMount(m, o) {
		o.Flags |= unix.MS_BIND
		src, err := bindSource(c, m.Source)
		if err != nil {
			return err
		}
		defer src.Close()
		return r.bindMount(src, dest, o)
	}
	if o.Flags&unix.MS_REMOUNT != 0 {
		return r.remountEntry(dest, o)
	}
	switch m.Type {
	case "proc", "sysfs":
		return r.mountProcSys(m, dest, o)
	case "mqueue":
		return r.mountMqueue(m, dest, o, label)
	case "tmpfs":
		return r.mountTmpfs(m, dest, o, withLabel(o.Data, label))
	case "cgroup", "cgroup2":
		return r.mountCgroup(c, m, dest, o)
	}
	if err := checkProcMount(dest, m.Type, nil); err != nil {
		return err
	}
	data := o.Data
	if m.Type == "devpts" || m.Type == "" {
		data = withLabel(data, label)
	}
	mounted, err := r.fsMount(m, dest, o.Flags, data, false, 0)
	if err != nil {
		return err
	}
	defer mounted.Close()
	return finishMount(mounted, o, 0)
}

// remountEntry handles a "remount" option on an existing mount: only its flags change.
func (r *root) remountEntry(dest string, o MountOptions) error {
	f, err := r.open(dest, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := r.check(f); err != nil {
		return err
	}
	return finishMount(f, o, o.Flags)
}

func (r *root) mountProcSys(m specs.Mount, dest string, o MountOptions) error {
	if err := checkProcMount(dest, m.Type, nil); err != nil {
		return err
	}
	magic := int64(unix.PROC_SUPER_MAGIC)
	if m.Type == "sysfs" {
		magic = unix.SYSFS_MAGIC
	}
	mounted, err := r.fsMount(m, dest, o.Flags, o.Data, true, magic)
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" {
		// Without a network namespace of its own a user namespace may not mount sysfs:
		// show the host's instead, as runc does.
		return r.hostFallback("/sys", dest, o)
	}
	if err != nil {
		return err
	}
	defer mounted.Close()
	return finishMount(mounted, o, 0)
}

func (r *root) mountMqueue(m specs.Mount, dest string, o MountOptions, label string) error {
	mounted, err := r.fsMount(m, dest, o.Flags, o.Data, false, 0)
	if errors.Is(err, unix.EPERM) {
		// Without an IPC namespace of its own a user namespace may not mount mqueue.
		return r.hostFallback("/dev/mqueue", dest, o)
	}
	if err != nil {
		return err
	}
	defer mounted.Close()
	// mqueue takes no context= option: label its root instead, as runc does. A policy that
	// gives mqueue no xattr labelling answers ENOTSUP: the policy's own label stays.
	if label != "" && selinux.Enabled() {
		err := unix.Setxattr(procFd(mounted), "security.selinux", []byte(label), 0)
		if err != nil && err != unix.ENOTSUP {
			return fmt.Errorf("label %s: %w", dest, err)
		}
	}
	return finishMount(mounted, o, 0)
}

// hostFallback recursively binds the host directory hostPath (the host's instance of a
// filesystem, or a cgroup directory) at dest.
func (r *root) hostFallback(hostPath, dest string, o MountOptions) error {
	src, err := os.OpenFile(hostPath, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	o.Flags |= unix.MS_BIND | unix.MS_REC
	return r.bindMount(src, dest, o)
}

// withLabel adds the SELinux context option for filesystems that take one.
func withLabel(data, label string) string {
	if label == "" || !selinux.Enabled() {
		return data
	}
	ctx := "context=\"" + label + "\""
	if data == "" {
		return ctx
	}
	return data + "," + ctx
}

func hasOption(data, prefix string) bool {
	for _, d := range strings.Split(data, ",") {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}
