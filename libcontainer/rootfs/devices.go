package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the devices every container gets (runtime-spec "Default Devices").
func defaultDevices() []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	zero := uint32(0)
	dev := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
	}
	return []specs.LinuxDevice{
		dev("/dev/null", 1, 3),
		dev("/dev/zero", 1, 5),
		dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8),
		dev("/dev/urandom", 1, 9),
		dev("/dev/tty", 5, 0),
	}
}

// containerDevices is the default set plus linux.devices; a configured device replaces a
// default one at the same path.
func containerDevices(s *specs.Spec) []specs.LinuxDevice {
	var cfg []specs.LinuxDevice
	if s.Linux != nil {
		cfg = s.Linux.Devices
	}
	seen := map[string]bool{}
	for _, d := range cfg {
		seen[cleanInRoot(d.Path)] = true
	}
	var out []specs.LinuxDevice
	for _, d := range defaultDevices() {
		if !seen[d.Path] {
			out = append(out, d)
		}
	}
	return append(out, cfg...)
}

// needsDevSetup is false when /dev is bind-mounted from the host: then it is used as is.
func needsDevSetup(s *specs.Spec) bool {
	for _, m := range s.Mounts {
		if cleanInRoot(m.Destination) == "/dev" && isBindMount(m, ParseMountOptions(m.Options)) {
			return false
		}
	}
	return true
}

// inUserNS reports whether we run in a user namespace other than the initial one, where
// mknod of devices is not allowed.
func inUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := bytes.Fields(b)
	return !(len(f) == 3 && string(f[0]) == "0" && string(f[1]) == "0" && string(f[2]) == "4294967295")
}

func deviceType(t string) (uint32, error) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", t)
}

// setupDev creates the devices and the standard /dev symlinks. Everything is done through
// fds below the container's /dev as resolved inside the root, so an image whose /dev (or
// anything under it) is a symlink cannot make us touch the host.
func (r *root) setupDev(c *Config) error {
	bind := inUserNS()
	// Device directories (nearly always just /dev) are resolved and checked once.
	dirs := map[string]*os.File{}
	defer func() {
		for _, f := range dirs {
			f.Close()
		}
	}()
	dirOf := func(p string) (*os.File, error) {
		if f, ok := dirs[p]; ok {
			return f, nil
		}
		f, err := r.mkdirAll(p, 0o755)
		if err != nil {
			return nil, err
		}
		if _, err := r.check(f); err != nil {
			f.Close()
			return nil, err
		}
		dirs[p] = f
		return f, nil
	}
	for _, d := range containerDevices(c.Spec) {
		if err := r.createDevice(d, bind, dirOf); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	dev, err := dirOf("/dev")
	if err != nil {
		return err
	}
	return devSymlinks(dev)
}

func (r *root) createDevice(d specs.LinuxDevice, bind bool, dirOf func(string) (*os.File, error)) error {
	p := cleanInRoot(d.Path)
	if p == "/" {
		return errors.New("invalid device path")
	}
	typ, err := deviceType(d.Type)
	if err != nil {
		return err
	}
	dir, err := dirOf(filepath.Dir(p))
	if err != nil {
		return err
	}
	base := filepath.Base(p)
	if typ == unix.S_IFIFO {
		bind = false
	}
	if !bind {
		mode := uint32(0o666)
		if d.FileMode != nil {
			mode = uint32(d.FileMode.Perm())
		}
		err := unix.Mknodat(int(dir.Fd()), base, typ|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
		switch {
		case errors.Is(err, unix.EEXIST):
			// An existing node (the image's own, or a bind-mounted one) is kept.
			return nil
		case errors.Is(err, unix.EPERM):
			bind = true
		case err != nil:
			return fmt.Errorf("mknod: %w", err)
		default:
			return fixDeviceNode(dir, base, typ, d, mode)
		}
	}
	return bindDevice(dir, base, d.Path)
}

// fixDeviceNode sets owner and exact mode (mknod is subject to the umask) of the node we
// just created, after checking it is still that node.
func fixDeviceNode(dir *os.File, base string, typ uint32, d specs.LinuxDevice, mode uint32) error {
	f, err := openAt(dir, base, unix.O_PATH)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := fstat(f)
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != typ {
		return fmt.Errorf("%s changed type after mknod", base)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(int(f.Fd()), "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Chmod(procFd(f), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// bindDevice is the user-namespace way: bind the host's device node onto an empty file.
func bindDevice(dir *os.File, base, hostPath string) error {
	fd, err := unix.Openat(int(dir.Fd()), base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create %s: %w", base, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	dst, err := openAt(dir, base, unix.O_PATH)
	if err != nil {
		return err
	}
	defer dst.Close()
	st, err := fstat(dst)
	if err != nil {
		return err
	}
	if t := st.Mode & unix.S_IFMT; t == unix.S_IFLNK || t == unix.S_IFDIR {
		return fmt.Errorf("refusing to bind a device onto %s: not a file", base)
	}
	src, err := os.OpenFile(hostPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := unix.Mount(procFd(src), procFd(dst), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", hostPath, err)
	}
	return nil
}

// devSymlinks creates the standard links of /dev (dev, checked to be inside the root) and
// makes /dev/ptmx the devpts one.
func devSymlinks(dev *os.File) error {
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", int(dev.Fd()), "ptmx"); err != nil {
		return fmt.Errorf("symlink /dev/ptmx: %w", err)
	}
	return nil
}
