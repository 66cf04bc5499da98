package libcontainer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The container must never be able to write to the binary that runs as `runo init`
// (CVE-2019-5736: the container reopens /proc/<init>/exe for writing). Instead of copying the
// 10 MB binary into a sealed memfd on every start, runo exposes its own file through a private,
// detached, read-only overlayfs mount: two syscalls, no copy, and never attached to any mount
// table (so no mount storms). The overlay has no upper layer, so it is read-only at the
// superblock and cannot be remounted writable. Where overlayfs is unavailable (rootless, old
// kernel, odd layout) a sealed memfd copy is the fallback.

// sealedBinary returns an fd whose /proc/self/fd path can be executed as `runo init`.
func sealedBinary() (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err == nil && !strings.HasSuffix(exe, " (deleted)") {
		if f, err := overlayBinary(exe); err == nil {
			return f, nil
		}
	}
	return memfdBinary()
}

// overlayBinary mounts (detached) a read-only overlay of the binary's directory and opens the
// binary in it. overlayfs needs a second lower layer when there is no upper one: an empty,
// detached tmpfs, which can never overlap the binary's directory and shows no host file.
func overlayBinary(exe string) (*os.File, error) {
	empty, err := detachedMount("tmpfs", nil, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(empty)
	lower := escapeOverlay(filepath.Dir(exe)) + ":" + fmt.Sprintf("/proc/self/fd/%d", empty)
	mfd, err := detachedMount("overlay", map[string]string{"lowerdir": lower},
		unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, err
	}
	defer unix.Close(mfd)
	fd, err := unix.Openat(mfd, filepath.Base(exe), unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "runo-overlay"), nil
}

// detachedMount creates a filesystem and returns a mount fd for it that is attached nowhere.
func detachedMount(fstype string, opts map[string]string, attrs int) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fsfd)
	for k, v := range opts {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			return -1, err
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, err
	}
	return unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
}

// escapeOverlay escapes the characters overlayfs treats specially in lowerdir.
func escapeOverlay(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`).Replace(p)
}

func memfdBinary() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open own binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("runo", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err != nil {
		fd, err = unix.MemfdCreate("runo", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "runo-memfd")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy own binary to memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}
