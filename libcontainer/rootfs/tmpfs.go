package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs read-write first (files may need to be created in it: devices
// under /dev, tmpcopyup), then makes it read-only if asked. A read-only /dev is only made
// read-only by Finalize, once the devices exist.
func (r *root) mountTmpfs(m specs.Mount, dest string, o MountOptions, data string) error {
	if err := checkProcMount(dest, m.Type, nil); err != nil {
		return err
	}
	existed := false
	if f, err := r.open(dest, 0); err == nil {
		existed = true
		f.Close()
	}
	under, err := r.mkdirAll(dest, 0o755)
	if err != nil {
		return err
	}
	defer under.Close()
	if _, err := r.check(under); err != nil {
		return err
	}
	ust, err := fstat(under)
	if err != nil {
		return err
	}
	// The fd taken before mounting keeps naming the covered directory, which is what
	// tmpcopyup copies from.
	var lower *os.File
	if o.TmpCopyUp {
		if lower, err = reopen(under, unix.O_RDONLY|unix.O_DIRECTORY); err != nil {
			return err
		}
		defer lower.Close()
	}
	source := m.Source
	if source == "" {
		source = "tmpfs"
	}
	if err := mountFd(source, under, "tmpfs", o.Flags&^unix.MS_RDONLY, data); err != nil {
		return err
	}
	mounted, err := r.reopenMounted(dest, under)
	if err != nil {
		return err
	}
	defer mounted.Close()
	if lower != nil {
		top, err := reopen(mounted, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		err = copyDir(lower, top)
		top.Close()
		if err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
	}
	if existed && !hasOption(o.Data, "mode=") {
		// Keep the permissions the image gave the directory rather than tmpfs' 1777.
		if err := unix.Chmod(procFd(mounted), ust.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", dest, err)
		}
	}
	var remount uintptr
	if o.Flags&unix.MS_RDONLY != 0 && dest != "/dev" {
		remount = o.Flags
	}
	return finishMount(mounted, o, remount)
}

// reopen turns an O_PATH fd into a real one through its magic link.
func reopen(f *os.File, flags int) (*os.File, error) {
	fd, err := unix.Open(procFd(f), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "reopen", Path: f.Name(), Err: err}
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// copyDir copies the content of the directory src into dst, preserving modes and owners.
// Every step is relative to a directory fd and never follows a symlink.
func copyDir(src, dst *os.File) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", src.Name(), err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(src, dst *os.File, name string) error {
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir %s: %w", name, err)
		}
		s, err := openAt(src, name, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := openAt(dst, name, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := copyDir(s, d); err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(src, dst, name, st.Mode&0o7777); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkAt(sfd, name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dfd, name); err != nil {
			return fmt.Errorf("symlink %s: %w", name, err)
		}
	default:
		if err := unix.Mknodat(dfd, name, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", name, err)
		}
	}
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		// After chown, which clears set-id bits; the entry was created by us just now and
		// is not a symlink, so following is harmless.
		if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", name, err)
		}
	}
	return nil
}

func copyFile(src, dst *os.File, name string, mode uint32) error {
	in, err := openAt(src, name, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer in.Close()
	fd, err := unix.Openat(int(dst.Fd()), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode&0o777)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	out := os.NewFile(uintptr(fd), name)
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	return out.Close()
}

func openAt(dir *os.File, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", fmt.Errorf("readlink %s: %w", name, err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
