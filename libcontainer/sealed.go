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
// emptyDir is any directory that does not overlap the binary's own (the container's state
// directory): overlayfs needs a second lower layer when there is no upper one, and lookups of
// the binary's name are answered by the first layer.
func sealedBinary(emptyDir string) (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err == nil && !strings.HasSuffix(exe, " (deleted)") {
		if f, err := overlayBinary(emptyDir, exe); err == nil {
			return f, nil
		}
	}
	return memfdBinary()
}

func overlayBinary(other, exe string) (*os.File, error) {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fsfd)
	lower := escapeOverlay(filepath.Dir(exe)) + ":" + escapeOverlay(other)
	if err := unix.FsconfigSetString(fsfd, "lowerdir", lower); err != nil {
		return nil, err
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, err
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
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
