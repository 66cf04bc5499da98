package rootfs

// The real tests run Setup/Finalize in a child copy of the test binary, started in new
// mount (and pid, uts, ipc, ...) namespaces, which reports what it sees as JSON.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const childEnv = "RUNO_ROOTFS_TEST_CHILD"

// childConfig is what the parent test asks the child to do.
type childConfig struct {
	Spec         *specs.Spec
	Rootfs       string
	Bundle       string
	NoPivot      bool
	CgroupMounts []CgroupMount
	// PreMounts are tmpfs mounts the child makes (in its own namespace) before Setup,
	// e.g. a submount inside a bind source.
	PreMounts []string
	// Sabotage names an attack performed in BeforePivot, on the host path of the rootfs.
	Sabotage string
	Console  bool
	Stat     []string // lstat'ed after Finalize
	Write    []string // files created after Finalize
	Read     []string // files read (or directories listed) after Finalize
	Exec     [][]string
	// LockedTmpfs, when set, makes the child mount a nosuid,nodev,noexec tmpfs there and
	// run the rest in a grandchild in a new user namespace, where that mount's flags are
	// locked.
	LockedTmpfs string
}

type statResult struct {
	Err          string `json:",omitempty"`
	Type         string // "dir", "file", "char", "block", "fifo", "link", "other"
	Perm         uint32
	Major, Minor uint32
	UID, GID     uint32
	Link         string `json:",omitempty"`
}

type mountResult struct {
	Mountpoint, FSType, Options, VFSOptions, Optional string
}

type childReport struct {
	SetupErr, FinalizeErr, ConsoleErr string
	PrePivot                          []mountResult
	Mounts                            []mountResult
	Stat                              map[string]statResult
	Write                             map[string]string
	Read                              map[string]string
	Exec                              map[string]string
}

func childMain() int {
	rep, err := runChild(os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	return 0
}

func runChild(cfgPath string) (*childReport, error) {
	runtime.LockOSThread()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	var cc childConfig
	if err := json.Unmarshal(b, &cc); err != nil {
		return nil, err
	}
	// The child must not be able to affect the host: verify we are in our own mount ns.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return nil, err
	}
	if cc.LockedTmpfs != "" {
		return runLockedGrandchild(cc)
	}
	for _, p := range cc.PreMounts {
		if err := unix.Mount("tmpfs", p, "tmpfs", 0, "size=1m"); err != nil {
			return nil, fmt.Errorf("premount %s: %w", p, err)
		}
	}
	rep := &childReport{Stat: map[string]statResult{}, Write: map[string]string{}, Read: map[string]string{}, Exec: map[string]string{}}
	c := &Config{
		Spec: cc.Spec, Rootfs: cc.Rootfs, Bundle: cc.Bundle, NoPivot: cc.NoPivot,
		CgroupMounts: cc.CgroupMounts,
	}
	c.BeforePivot = func() error {
		rep.PrePivot = mounts()
		return sabotage(cc.Sabotage, cc.Rootfs)
	}
	if err := Setup(c); err != nil {
		rep.SetupErr = err.Error()
		return rep, nil
	}
	if err := Finalize(c); err != nil {
		rep.FinalizeErr = err.Error()
		return rep, nil
	}
	if cc.Console {
		if err := console(); err != nil {
			rep.ConsoleErr = err.Error()
		}
	}
	rep.Mounts = mounts()
	for _, p := range cc.Stat {
		rep.Stat[p] = lstat(p)
	}
	for _, p := range cc.Write {
		rep.Write[p] = errString(os.WriteFile(p, []byte("x"), 0o644))
	}
	for _, p := range cc.Read {
		rep.Read[p] = readProbe(p)
	}
	for _, args := range cc.Exec {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		rep.Exec[strings.Join(args, " ")] = string(out) + errString(err)
	}
	return rep, nil
}

func runLockedGrandchild(cc childConfig) (*childReport, error) {
	if err := unix.Mount("tmpfs", cc.LockedTmpfs, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=1m"); err != nil {
		return nil, err
	}
	// Go writes the grandchild's id maps through /proc/<pid>: it needs a procfs of our own
	// pid namespace.
	if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		return nil, err
	}
	cc.LockedTmpfs = ""
	b, err := json.Marshal(cc)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(cc.LockedTmpfsCfgDir(), "grandchild.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+cfg)
	cmd.Stdin = strings.NewReader("")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
		Pdeathsig:   syscall.SIGKILL,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("grandchild: %w", err)
	}
	var rep childReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("grandchild output %q: %w", out, err)
	}
	return &rep, nil
}

// LockedTmpfsCfgDir is where the grandchild's config goes: next to the rootfs, which the
// test owns.
func (cc childConfig) LockedTmpfsCfgDir() string { return filepath.Dir(cc.Rootfs) }

func sabotage(kind, rootfs string) error {
	null := filepath.Join(rootfs, "dev/null")
	switch kind {
	case "":
		return nil
	case "devnull-symlink":
		if err := os.Remove(null); err != nil {
			return err
		}
		return os.Symlink("/proc/sys/kernel/core_pattern", null)
	case "devnull-regular":
		if err := os.Remove(null); err != nil {
			return err
		}
		return os.WriteFile(null, nil, 0o666)
	}
	return fmt.Errorf("unknown sabotage %q", kind)
}

func console() error {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlockpt: %w", err)
	}
	fd, err := unix.IoctlRetInt(int(ptmx.Fd()), unix.TIOCGPTPEER)
	if err != nil {
		return fmt.Errorf("TIOCGPTPEER: %w", err)
	}
	slave := os.NewFile(uintptr(fd), "pty-slave")
	defer slave.Close()
	return MountConsole(slave)
}

func mounts() []mountResult {
	infos, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil
	}
	var out []mountResult
	for _, mi := range infos {
		out = append(out, mountResult{mi.Mountpoint, mi.FSType, mi.Options, mi.VFSOptions, mi.Optional})
	}
	return out
}

func lstat(p string) statResult {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return statResult{Err: err.Error()}
	}
	r := statResult{Perm: st.Mode & 0o7777, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), UID: st.Uid, GID: st.Gid}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		r.Type = "dir"
	case unix.S_IFREG:
		r.Type = "file"
	case unix.S_IFCHR:
		r.Type = "char"
	case unix.S_IFBLK:
		r.Type = "block"
	case unix.S_IFIFO:
		r.Type = "fifo"
	case unix.S_IFLNK:
		r.Type = "link"
		r.Link, _ = os.Readlink(p)
	default:
		r.Type = "other"
	}
	return r
}

func readProbe(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "error: " + err.Error()
	}
	if fi.IsDir() {
		ents, err := os.ReadDir(p)
		if err != nil {
			return "error: " + err.Error()
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return "dir:" + strings.Join(names, ",")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "error: " + err.Error()
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}
