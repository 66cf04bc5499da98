package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountFd is mount(2) onto the object an fd names, so the kernel cannot be redirected by a
// path component swapped after the destination was resolved.
func mountFd(source string, dst *os.File, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, procFd(dst), fstype, flags, data); err != nil {
		return &os.PathError{Op: "mount", Path: dst.Name(), Err: err}
	}
	return nil
}

// reopenMounted returns an fd of the mount that was just attached on top of before (an fd
// of the mountpoint taken before mounting, which still names the covered directory). The
// new fd must be the root of a different mount at the same place; anything else means the
// path changed under us.
func (r *root) reopenMounted(dest string, before *os.File) (*os.File, error) {
	after, err := r.open(dest, 0)
	if err != nil {
		return nil, err
	}
	ok, err := sameSpotNewMount(before, after)
	if err != nil || !ok {
		after.Close()
		if err == nil {
			err = fmt.Errorf("%s changed while it was being mounted on", dest)
		}
		return nil, err
	}
	return after, nil
}

func sameSpotNewMount(before, after *os.File) (bool, error) {
	p1, err := realPath(before)
	if err != nil {
		return false, err
	}
	p2, err := realPath(after)
	if err != nil {
		return false, err
	}
	id1, err := mntID(before)
	if err != nil {
		return false, err
	}
	id2, err := mntID(after)
	if err != nil {
		return false, err
	}
	return p1 == p2 && id1 != id2, nil
}

// lockedFlags are the per-mount flags a remount must repeat when they are locked (mounts
// inherited into a user namespace): clearing them fails with EPERM.
func lockedFlags(f *os.File) (uintptr, error) {
	st, err := fstatfs(f)
	if err != nil {
		return 0, err
	}
	var fl uintptr
	for _, m := range []struct{ st, ms uintptr }{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
	} {
		if uintptr(st.Flags)&m.st != 0 {
			fl |= m.ms
		}
	}
	return fl, nil
}

// remountBind changes the per-mount flags of the mount rooted at f. Unless the options
// explicitly cleared them (clear), flags the kernel refuses to drop are kept.
func remountBind(f *os.File, flags, clear uintptr) error {
	flags = flags&^(unix.MS_REC|unix.MS_BIND|unix.MS_REMOUNT) | unix.MS_BIND | unix.MS_REMOUNT
	err := mountFd("", f, "", flags, "")
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	locked, lerr := lockedFlags(f)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	if keep := locked &^ clear &^ flags; keep != 0 {
		return mountFd("", f, "", flags|keep, "")
	}
	return err
}

// finishMount applies what can only be applied once the mount exists: per-mount flags of
// bind mounts, propagation, recursive attributes.
func finishMount(f *os.File, o MountOptions, remountFlags uintptr) error {
	if remountFlags != 0 {
		if err := remountBind(f, remountFlags, o.ClearFlags); err != nil {
			return err
		}
	}
	for _, p := range o.Propagation {
		if err := mountFd("", f, "", p, ""); err != nil {
			return err
		}
	}
	if o.RecAttr != nil {
		if err := unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, o.RecAttr); err != nil {
			return fmt.Errorf("mount_setattr recursive %+v: %w", *o.RecAttr, err)
		}
	}
	return nil
}

// needsRemount reports whether a bind mount's flags go beyond what the bind itself applies.
func needsRemount(flags uintptr) bool {
	return flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0
}

// bindSource opens the host path of a bind mount (relative paths are relative to the
// bundle, as the spec says).
func bindSource(c *Config, src string) (*os.File, error) {
	if !filepath.IsAbs(src) && c.Bundle != "" {
		src = filepath.Join(c.Bundle, src)
	}
	f, err := os.OpenFile(src, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// mountDest creates (if needed) and opens the destination of a mount: a directory, or an
// empty file when the source is not a directory.
func (r *root) mountDest(dest string, dir bool) (*os.File, error) {
	var f *os.File
	var err error
	if dir {
		f, err = r.mkdirAll(dest, 0o755)
	} else {
		f, err = r.createFile(dest, 0o644)
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.check(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// bindMount binds src (an open host object) onto dest inside the root and applies the
// rest of the options.
func (r *root) bindMount(src *os.File, dest string, o MountOptions) error {
	st, err := fstat(src)
	if err != nil {
		return err
	}
	if err := checkProcMount(dest, "bind", src); err != nil {
		return err
	}
	dst, err := r.mountDest(dest, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := unix.Mount(procFd(src), procFd(dst), "", unix.MS_BIND|o.Flags&unix.MS_REC, ""); err != nil {
		return err
	}
	mounted, err := r.reopenMounted(dest, dst)
	if err != nil {
		return err
	}
	defer mounted.Close()
	var remount uintptr
	if needsRemount(o.Flags) {
		remount = o.Flags
	}
	return finishMount(mounted, o, remount)
}

// fsMount mounts a fresh filesystem of type fstype on the directory dest. noSymlinks
// refuses a destination path with any symlink in it (procfs and sysfs); wantFS, when
// non-zero, is the filesystem magic the mounted destination must show.
func (r *root) fsMount(m specs.Mount, dest string, flags uintptr, data string, noSymlinks bool, wantFS int64) (*os.File, error) {
	var dst *os.File
	var err error
	if noSymlinks {
		dst, err = r.open(dest, unix.RESOLVE_NO_SYMLINKS)
		if errors.Is(err, unix.ENOENT) {
			var made *os.File
			if made, err = r.mkdirAll(dest, 0o755); err == nil {
				made.Close()
				dst, err = r.open(dest, unix.RESOLVE_NO_SYMLINKS)
			}
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return nil, fmt.Errorf("refusing to mount on %s: the path contains a symlink: %w", dest, err)
		}
	} else {
		dst, err = r.mkdirAll(dest, 0o755)
	}
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	if _, err := r.check(dst); err != nil {
		return nil, err
	}
	st, err := fstat(dst)
	if err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("%s must be mounted on an ordinary directory", m.Type)
	}
	source := m.Source
	if source == "" {
		source = m.Type
	}
	if err := mountFd(source, dst, m.Type, flags, data); err != nil {
		return nil, err
	}
	mounted, err := r.reopenMounted(dest, dst)
	if err != nil {
		return nil, err
	}
	if wantFS != 0 {
		sfs, err := fstatfs(mounted)
		if err != nil || int64(sfs.Type) != wantFS {
			mounted.Close()
			if err == nil {
				err = fmt.Errorf("%s is not a %s mount after mounting (magic %#x)", dest, m.Type, sfs.Type)
			}
			return nil, err
		}
	}
	return mounted, nil
}

// checkProcMount refuses mounts over /proc itself (unless it is procfs) and inside /proc
// (except the few files lxcfs-style tools replace), as they could hide or fake the
// kernel interfaces the runtime relies on.
func checkProcMount(dest, fstype string, bindSrc *os.File) error {
	rel, err := filepath.Rel("/proc", dest)
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return nil
	}
	if rel == "." {
		if bindSrc == nil {
			if fstype == "proc" {
				return nil
			}
			return fmt.Errorf("%q cannot be mounted because it is not of type proc", dest)
		}
		st, err := fstatfs(bindSrc)
		if err != nil {
			return err
		}
		if st.Type == unix.PROC_SUPER_MAGIC {
			return nil
		}
		return fmt.Errorf("%q cannot be mounted because it is not of type proc", dest)
	}
	switch dest {
	case "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
		"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/pressure/cpu",
		"/proc/pressure/io", "/proc/pressure/memory", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid":
		return nil
	}
	return fmt.Errorf("%q cannot be mounted because it is inside /proc", dest)
}
