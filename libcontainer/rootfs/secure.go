package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// root is the container's root directory: an fd every in-container path is resolved
// against, plus its real path as the current process sees it (used to verify fds).
type root struct {
	f    *os.File
	path string
}

func openRoot(path string) (*root, error) {
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", path, err)
	}
	return &root{f: f, path: path}, nil
}

func (r *root) Close() error { return r.f.Close() }

// procFd is the magic link that names f for path-based syscalls such as mount(2).
func procFd(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// cleanInRoot makes p an absolute, lexically clean path inside the container.
func cleanInRoot(p string) string {
	return filepath.Clean("/" + p)
}

// open resolves p inside the root the way the container would see it (symlinks are
// followed but can never leave the root, magic links are refused) and opens it O_PATH.
// extra adds RESOLVE_* flags (RESOLVE_NO_SYMLINKS for the paths that must be plain).
func (r *root) open(p string, extra uint64) (*os.File, error) {
	p = cleanInRoot(p)
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | extra,
	}
	var fd int
	var err error
	for range 16 {
		fd, err = unix.Openat2(int(r.f.Fd()), rel, how)
		if err != unix.EAGAIN && err != unix.EINTR {
			break
		}
	}
	if errors.Is(err, unix.ENOSYS) {
		f, err := pathrs.OpenatInRoot(r.f, rel)
		if err != nil {
			return nil, err
		}
		if extra&unix.RESOLVE_NO_SYMLINKS != 0 {
			// Without openat2 a symlink-free walk can only be checked afterwards: the
			// resolved path must be the lexical one.
			if err := r.expectPath(f, p); err != nil {
				f.Close()
				return nil, err
			}
		}
		return f, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(r.path, p))
	return f, nil
}

// mkdirAll creates p (and its parents) inside the root without following symlinks out of
// it and without racing against a concurrent swap of a component, returning an O_PATH fd.
func (r *root) mkdirAll(p string, mode os.FileMode) (*os.File, error) {
	p = cleanInRoot(p)
	if p == "/" {
		return r.open(p, 0)
	}
	// Most destinations exist already (/proc, /dev, /sys...): one openat2 in the root answers
	// that; the component-by-component walk is only needed to create what is missing.
	if f, err := r.open(p, 0); err == nil {
		if st, err := fstat(f); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return f, nil
		}
		f.Close()
	}
	if f, err := r.mkdirIn(p, mode); err == nil {
		return f, nil
	}
	f, err := pathrs.MkdirAllHandle(r.f, p, mode)
	if err != nil {
		return nil, fmt.Errorf("mkdir %s in container: %w", p, err)
	}
	return f, nil
}

// mkdirIn is mkdirAll's common case (/dev/pts, /dev/shm, /dev/mqueue in a fresh /dev): the
// parent resolves inside the root (creating it the same way if needed), p's last component
// is made there and opened without following anything. Anything unusual (the name exists
// already, as a dangling symlink perhaps) fails, and pathrs-lite, which verifies each step
// through procfs at some 40 system calls per directory, handles it.
func (r *root) mkdirIn(p string, mode os.FileMode) (*os.File, error) {
	dir, err := r.mkdirAll(filepath.Dir(p), mode)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	base := filepath.Base(p)
	if err := unix.Mkdirat(int(dir.Fd()), base, uint32(mode.Perm())); err != nil {
		return nil, &os.PathError{Op: "mkdir", Path: p, Err: err}
	}
	return openAt(dir, base, unix.O_PATH|unix.O_DIRECTORY)
}

// createFile makes sure p exists inside the root, creating an empty regular file (and its
// parent directories) if nothing is there. It returns an O_PATH fd of whatever p resolves to.
func (r *root) createFile(p string, mode os.FileMode) (*os.File, error) {
	p = cleanInRoot(p)
	if f, err := r.open(p, 0); err == nil || !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	dir, err := r.mkdirAll(filepath.Dir(p), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	base := filepath.Base(p)
	fd, err := unix.Openat(int(dir.Fd()), base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "create", Path: p, Err: err}
	}
	if err == nil {
		unix.Close(fd)
	}
	// Something may exist now (a dangling symlink we refused to follow, or a racing
	// creator): resolve it the safe way.
	return r.open(p, 0)
}

// realPath returns the path the kernel reports for f.
func realPath(f *os.File) (string, error) {
	// One call with room for any path: os.Readlink starts at 128 bytes, which a containerd
	// rootfs path alone nearly fills.
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink(procFd(f), buf)
	if err != nil {
		return "", fmt.Errorf("readlink %s: %w", procFd(f), err)
	}
	return string(buf[:n]), nil
}

// check verifies that f really is inside the root: a directory renamed out of the root
// between resolution and use would otherwise let a mount land on the host.
func (r *root) check(f *os.File) (string, error) {
	p, err := realPath(f)
	if err != nil {
		return "", err
	}
	if r.path == "/" || p == r.path || strings.HasPrefix(p, r.path+"/") {
		return p, nil
	}
	return "", fmt.Errorf("%s resolved to %s, outside the container root %s", f.Name(), p, r.path)
}

// expectPath verifies that f is exactly the in-container path p.
func (r *root) expectPath(f *os.File, p string) error {
	real, err := realPath(f)
	if err != nil {
		return err
	}
	want := filepath.Join(r.path, p)
	if real != want {
		return fmt.Errorf("%s resolved to %s, want %s (symlink in the path?)", p, real, want)
	}
	return nil
}

// mntID returns the id of the mount f is on.
func mntID(f *os.File) (uint64, error) {
	var st unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
		return 0, fmt.Errorf("statx %s: %w", f.Name(), err)
	}
	return st.Mnt_id, nil
}

// fstatfs returns the statfs of the filesystem f is on.
func fstatfs(f *os.File) (*unix.Statfs_t, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("fstatfs %s: %w", f.Name(), err)
	}
	return &st, nil
}

func fstat(f *os.File) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("fstat %s: %w", f.Name(), err)
	}
	return &st, nil
}
