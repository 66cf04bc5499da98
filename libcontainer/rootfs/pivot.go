package rootfs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// pivotRoot makes rootfs the root. pivot_root(".", ".") stacks the old root on top of the
// new one at "/", so no put_old directory is needed in the (possibly read-only) rootfs; the
// old root is then detached.
func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", rootfs, err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Make sure the unmount cannot propagate anywhere (the host's mounts are peers of
	// ours if "/" was shared).
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is the --no-pivot path: move the rootfs mount over "/" and chroot into it. The
// host mounts that are not on the way to the rootfs are detached first, so that a process
// escaping the chroot finds as little of the host as possible.
func moveRoot(rootfs string) error {
	infos, err := mountinfo.GetMounts(nil)
	if err != nil {
		return err
	}
	sort.Slice(infos, func(i, j int) bool { return len(infos[i].Mountpoint) > len(infos[j].Mountpoint) })
	for _, mi := range infos {
		mp := mi.Mountpoint
		if mp == "/" || mp == rootfs || strings.HasPrefix(mp, rootfs+"/") || strings.HasPrefix(rootfs, mp+"/") {
			continue
		}
		// Best effort: mounts locked by a user namespace cannot be detached; they stay
		// out of reach outside the chroot.
		_ = unix.Unmount(mp, unix.MNT_DETACH)
	}
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// makeParentPrivate makes the mount holding rootfs private if it is shared: pivot_root
// refuses a shared parent, and the rootfs bind mount must not propagate to the host.
func makeParentPrivate(rootfs string) error {
	infos, err := mountinfo.GetMounts(mountinfo.ParentsFilter(rootfs))
	if err != nil {
		return err
	}
	var parent *mountinfo.Info
	for _, mi := range infos {
		if parent == nil || len(mi.Mountpoint) > len(parent.Mountpoint) {
			parent = mi
		}
	}
	if parent == nil || !strings.Contains(parent.Optional, "shared:") {
		return nil
	}
	if err := unix.Mount("", parent.Mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", parent.Mountpoint, err)
	}
	return nil
}
