package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// After pivot_root the only /proc a path can name is the container's own, and when the spec
// mounts no procfs there the image decides what /proc/self/fd/N is. The mounts made after the
// pivot (Finalize, MountConsole) therefore go through the fd-based mount API: open_tree,
// move_mount, fsmount and mount_setattr name their source and target by fd and resolve no path.

// attachClone binds a clone of the mount at src (recursively if rec) onto dst, applying attr to
// the detached clone first, so the mount is never visible without it.
func attachClone(src, dst *os.File, rec bool, attr *unix.MountAttr) error {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(int(src.Fd()), "", uint(flags))
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src.Name(), err)
	}
	defer unix.Close(tree)
	if attr != nil {
		setFlags := unix.AT_EMPTY_PATH
		if rec {
			setFlags |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(tree, "", uint(setFlags), attr); err != nil {
			return fmt.Errorf("mount_setattr on the clone of %s: %w", src.Name(), err)
		}
	}
	return moveOnto(tree, dst)
}

// attachTmpfs mounts a new read-only, empty tmpfs onto dst; label is its SELinux context
// ("" for none).
func attachTmpfs(dst *os.File, label string) error {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if label != "" {
		if err := unix.FsconfigSetString(fsfd, "context", label); err != nil {
			return fmt.Errorf("tmpfs context=%s: %w", label, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("create tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("fsmount tmpfs: %w", err)
	}
	defer unix.Close(mnt)
	return moveOnto(mnt, dst)
}

func moveOnto(mnt int, dst *os.File) error {
	if err := unix.MoveMount(mnt, "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount onto %s: %w", dst.Name(), err)
	}
	return nil
}

// setMountFlags changes the per-mount flags of the mount rooted at f: those in set are
// turned on, those in clear off, the others are left as they are (so the flags a user
// namespace locks need no special care).
func setMountFlags(f *os.File, set, clear uintptr, rec bool) error {
	attr := unix.MountAttr{Attr_set: mountAttrs(set), Attr_clr: mountAttrs(clear)}
	if set&atimeFlags != 0 || clear&atimeFlags != 0 {
		// The atime mode is one field: clearing it is how a new one is chosen.
		attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
		attr.Attr_set &^= unix.MOUNT_ATTR_NODIRATIME
		attr.Attr_set |= mountAttrs(set & unix.MS_NODIRATIME)
	}
	flags := unix.AT_EMPTY_PATH
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(int(f.Fd()), "", uint(flags), &attr); err != nil {
		return fmt.Errorf("mount_setattr %s: %w", f.Name(), err)
	}
	return nil
}

const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// mountAttrs maps per-mount MS_* flags to MOUNT_ATTR_* ones.
func mountAttrs(flags uintptr) uint64 {
	var a uint64
	for _, m := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if flags&m.ms != 0 {
			a |= m.attr
		}
	}
	return a
}

// errNoFdMounts explains a kernel without the fd-based mount API (Linux 5.12 for
// mount_setattr): the post-pivot mounts cannot be made safely there.
var errNoFdMounts = errors.New("this kernel lacks the fd-based mount API (open_tree, move_mount, mount_setattr: Linux 5.12)")

func fdMountErr(err error) error {
	if errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("%w: %w", errNoFdMounts, err)
	}
	return err
}
