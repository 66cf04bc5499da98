package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Setup prepares the container's filesystem and makes it the root: propagation of "/", the
// rootfs bind mount, every spec mount in order, devices, BeforePivot, pivot_root (or
// MS_MOVE+chroot with NoPivot) and chdir("/").
func Setup(c *Config) error {
	if c == nil || c.Spec == nil {
		return errors.New("rootfs setup: no spec")
	}
	if !filepath.IsAbs(c.Rootfs) {
		return fmt.Errorf("rootfs setup: rootfs %q is not an absolute path", c.Rootfs)
	}
	rootfs, err := filepath.EvalSymlinks(c.Rootfs)
	if err != nil {
		return fmt.Errorf("rootfs setup: %w", err)
	}
	if err := prepareRoot(c, rootfs); err != nil {
		return err
	}
	r, err := openRoot(rootfs)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, m := range c.Spec.Mounts {
		if err := r.mountEntry(c, m); err != nil {
			return err
		}
	}
	setupDev := needsDevSetup(c.Spec)
	if setupDev {
		if err := r.setupDev(c); err != nil {
			return fmt.Errorf("setup /dev: %w", err)
		}
	}
	if c.BeforePivot != nil {
		if err := c.BeforePivot(); err != nil {
			return err
		}
	}
	if c.NoPivot {
		err = moveRoot(rootfs)
	} else {
		err = pivotRoot(rootfs)
	}
	if err != nil {
		return err
	}
	if setupDev {
		if err := reopenDevNull(); err != nil {
			return err
		}
	}
	return nil
}

// prepareRoot sets the propagation of "/" (so nothing we mount reaches the host), and
// bind-mounts the rootfs onto itself so that it is a mount, as pivot_root requires.
func prepareRoot(c *Config, rootfs string) error {
	flag := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if c.Spec.Linux != nil && c.Spec.Linux.RootfsPropagation != "" {
		f, ok := PropagationFlag(c.Spec.Linux.RootfsPropagation)
		if !ok {
			return fmt.Errorf("unknown rootfsPropagation %q", c.Spec.Linux.RootfsPropagation)
		}
		// An unbindable "/" would forbid the rootfs bind mount below; Finalize applies it
		// to the container's "/" once the pivot is done.
		if f&unix.MS_UNBINDABLE == 0 {
			flag = f
		}
	}
	if err := unix.Mount("", "/", "", flag, ""); err != nil {
		return fmt.Errorf("set propagation of /: %w", err)
	}
	// After a recursive slave or private "/", no mount can still be shared: the mount table
	// need not be read to find the rootfs's parent.
	if flag&unix.MS_REC == 0 || flag&(unix.MS_SLAVE|unix.MS_PRIVATE) == 0 {
		if err := makeParentPrivate(rootfs); err != nil {
			return err
		}
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s onto itself: %w", rootfs, err)
	}
	return nil
}

// reopenDevNull points the stdio fds that were the host's /dev/null at the container's,
// so the container does not keep a handle on a host device node.
func reopenDevNull() error {
	var null *os.File
	defer func() {
		if null != nil {
			null.Close()
		}
	}()
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
			continue
		}
		if null == nil {
			var err error
			if null, err = openDevNull(unix.O_RDWR | unix.O_NOCTTY); err != nil {
				return err
			}
		}
		nst, err := fstat(null)
		if err != nil {
			return err
		}
		if st.Dev == nst.Dev && st.Ino == nst.Ino {
			continue
		}
		err = unix.Dup3(int(null.Fd()), fd, 0)
		if err != nil {
			return fmt.Errorf("dup /dev/null to fd %d: %w", fd, err)
		}
	}
	return nil
}

// openDevNull opens the container's /dev/null (after pivot) with flags and checks that it
// really is the null device: an image or a racing process could have made it a symlink to,
// or a bind mount of, something else (CVE-2025-31133). For I/O the node is first opened
// O_PATH and checked, so that no other device is ever opened, then opened again by name in
// the same directory (there is no trustworthy /proc/self/fd after the pivot) and compared.
func openDevNull(flags int) (*os.File, error) {
	r, err := openRoot("/")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	dev, err := r.open("/dev", 0)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	f, err := openAt(dev, "null", unix.O_PATH)
	if err != nil {
		return nil, err
	}
	st, err := fstat(f)
	if err == nil && (st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3) {
		err = fmt.Errorf("/dev/null is not the null device (mode %#o, rdev %d:%d)", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if flags == unix.O_PATH {
		return f, nil
	}
	f.Close()
	rw, err := openAt(dev, "null", flags)
	if err != nil {
		return nil, err
	}
	if rst, err := fstat(rw); err != nil || rst.Dev != st.Dev || rst.Ino != st.Ino || rst.Rdev != st.Rdev {
		rw.Close()
		return nil, fmt.Errorf("/dev/null changed while it was being opened")
	}
	return rw, nil
}
