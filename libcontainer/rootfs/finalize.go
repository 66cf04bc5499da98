package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/selinux"
)

// Finalize runs after the pivot, inside the new root: linux.readonlyPaths,
// linux.maskedPaths, a read-only /dev when the /dev mount asked for it, root.readonly and
// finally linux.rootfsPropagation on "/". Paths that do not exist are skipped. Every mount
// here is fd-based (fdmount.go): the container's /proc is not to be trusted.
func Finalize(c *Config) error {
	if c == nil || c.Spec == nil {
		return errors.New("rootfs finalize: no spec")
	}
	r, err := openRoot("/")
	if err != nil {
		return err
	}
	defer r.Close()
	if l := c.Spec.Linux; l != nil {
		for _, p := range l.ReadonlyPaths {
			if err := r.readonlyPath(p); err != nil {
				return fmt.Errorf("readonly path %s: %w", p, err)
			}
		}
		if err := r.maskPaths(l.MaskedPaths, l.MountLabel); err != nil {
			return err
		}
	}
	for _, m := range c.Spec.Mounts {
		o := ParseMountOptions(m.Options)
		if cleanInRoot(m.Destination) == "/dev" && o.Flags&unix.MS_RDONLY != 0 && !isBindMount(m, o) {
			if err := r.remountPath("/dev", o.Flags, o.ClearFlags); err != nil {
				return fmt.Errorf("remount /dev read-only: %w", err)
			}
		}
	}
	if c.Spec.Root != nil && c.Spec.Root.Readonly {
		if err := setMountFlags(r.f, unix.MS_RDONLY, 0, false); err != nil {
			return fmt.Errorf("remount / read-only: %w", fdMountErr(err))
		}
	}
	if c.Spec.Linux != nil && c.Spec.Linux.RootfsPropagation != "" {
		flag, ok := PropagationFlag(c.Spec.Linux.RootfsPropagation)
		if !ok {
			return fmt.Errorf("unknown rootfsPropagation %q", c.Spec.Linux.RootfsPropagation)
		}
		if err := unix.Mount("", "/", "", flag, ""); err != nil {
			return fmt.Errorf("set propagation of / to %s: %w", c.Spec.Linux.RootfsPropagation, err)
		}
	}
	return nil
}

func (r *root) remountPath(p string, flags, clear uintptr) error {
	f, err := r.open(p, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return fdMountErr(setMountFlags(f, flags, clear, false))
}

// readonlyPath bind-mounts p onto itself, the whole subtree read-only and its other flags
// (nosuid, nodev, noexec) kept.
func (r *root) readonlyPath(p string) error {
	f, err := r.open(p, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return fdMountErr(attachClone(f, f, true, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}))
}

// maskPaths hides each path: directories under an empty read-only tmpfs, anything else
// under the container's (verified) /dev/null.
func (r *root) maskPaths(paths []string, label string) error {
	var null *os.File
	defer func() {
		if null != nil {
			null.Close()
		}
	}()
	for _, p := range paths {
		f, err := r.open(p, 0)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("masked path %s: %w", p, err)
		}
		err = r.maskPath(f, &null, label)
		f.Close()
		if err != nil {
			return fmt.Errorf("masked path %s: %w", p, err)
		}
	}
	return nil
}

func (r *root) maskPath(f *os.File, null **os.File, label string) error {
	st, err := fstat(f)
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if label != "" && !selinux.Enabled() {
			label = ""
		}
		return fdMountErr(attachTmpfs(f, label))
	}
	if *null == nil {
		n, err := openDevNull(unix.O_PATH)
		if err != nil {
			return err
		}
		*null = n
	}
	return fdMountErr(attachClone(*null, f, false, nil))
}

// MountConsole bind-mounts the pty slave onto /dev/console (created as an empty file if
// missing). The slave is named by its fd, never by its /dev/pts path, which the container
// could have replaced (CVE-2025-52565); a /dev/console symlink is refused.
func MountConsole(slave *os.File) error {
	if slave == nil {
		return errors.New("mount console: no pty")
	}
	r, err := openRoot("/")
	if err != nil {
		return err
	}
	defer r.Close()
	dev, err := r.mkdirAll("/dev", 0o755)
	if err != nil {
		return fmt.Errorf("mount console: %w", err)
	}
	defer dev.Close()
	fd, err := unix.Openat(int(dev.Fd()), "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o666)
	if err == nil {
		unix.Close(fd)
	} else if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mount console: create /dev/console: %w", err)
	}
	dst, err := openAt(dev, "console", unix.O_PATH)
	if err != nil {
		return fmt.Errorf("mount console: %w", err)
	}
	defer dst.Close()
	st, err := fstat(dst)
	if err != nil {
		return fmt.Errorf("mount console: %w", err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFCHR {
		return fmt.Errorf("mount console: /dev/console is not a regular file or a character device (mode %#o)", st.Mode)
	}
	if err := attachClone(slave, dst, false, nil); err != nil {
		return fmt.Errorf("mount console: bind pty onto /dev/console: %w", fdMountErr(err))
	}
	return nil
}
