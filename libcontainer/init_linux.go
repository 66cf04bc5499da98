package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/libcontainer/capabilities"
	"github.com/runo-dev/runo/libcontainer/rootfs"
	"github.com/runo-dev/runo/seccomp"
	"github.com/runo-dev/runo/selinux"
)

// Init is `runo init`: it runs in the container's namespaces (entered by nsenter.c before the
// Go runtime started), finishes the container's setup and execs the user process. It returns
// only on failure, after reporting the error to the parent.
func Init() error {
	started := time.Now()
	// Every step must run on one OS thread: the cgroup namespace is unshared per thread, and the
	// exec must happen on the thread that carries it.
	runtime.LockOSThread()
	syncFd, err := strconv.Atoi(os.Getenv(envInitPipe))
	if err != nil {
		return fmt.Errorf("runo init must be started by runo: %s not set", envInitPipe)
	}
	fifoFd := -1
	if v := os.Getenv(envFifoFd); v != "" {
		if fifoFd, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("runo init: bad %s", envFifoFd)
		}
	}
	conn := &syncConn{f: os.NewFile(uintptr(syncFd), "sync")}
	payload, _, err := conn.expect(msgConfig)
	if err != nil {
		return err
	}
	var cfg initConfig
	if err := json.Unmarshal(payload, &cfg); err != nil {
		return reportInit(conn, fmt.Errorf("decode init config: %w", err))
	}
	in := &initProc{conn: conn, cfg: &cfg, spec: cfg.Spec, fifoFd: fifoFd, fdDir: -1}
	in.mark("go runtime started", started)
	in.mark("config received", time.Now())
	if fifoFd >= 0 {
		// Our own fd directory, opened while the host's /proc is still visible: the fifo is
		// reopened through it at the end, when the container may have no /proc at all.
		if in.fdDir, err = unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return reportInit(conn, fmt.Errorf("open /proc/self/fd: %w", err))
		}
	}
	if cfg.Exec {
		return reportInit(conn, in.runExec())
	}
	return reportInit(conn, in.run())
}

func reportInit(conn *syncConn, err error) error {
	if err == nil {
		return nil
	}
	if serr := conn.sendJSON(msgError, errorMsg{Message: err.Error()}); serr != nil {
		return err // the caller prints it on stderr
	}
	return errReported
}

// errReported means the parent already has the error: exit quietly.
var errReported = errors.New("error reported to the parent")

// IsReported tells the CLI not to print an init error a second time.
func IsReported(err error) bool { return errors.Is(err, errReported) }

type initProc struct {
	conn   *syncConn
	cfg    *initConfig
	spec   *specs.Spec
	fifoFd int
	fdDir  int // O_PATH handle on init's own /proc/<pid>/fd
	joined bool
	// filter is the seccomp program the parent built while init started; it comes with
	// the answer to msgCgroupReq.
	filter *seccomp.Filter
	exe    string // the resolved process.args[0]
	// timings are init's phase marks, sent with msgReady for the parent's --debug log.
	timings []phaseMark
}

// phaseMark is one entry of msgReady's payload: when init reached a step of its setup.
type phaseMark struct {
	Phase string `json:"phase"`
	At    int64  `json:"at"` // unix nanoseconds
}

// hookState is the state the hooks init runs itself get on stdin (the parent's use
// Container.specState).
func (in *initProc) hookState(status specs.ContainerState) specs.State {
	return specs.State{Version: specs.Version, ID: in.cfg.ID, Status: status, Pid: in.cfg.Pid,
		Bundle: in.cfg.Bundle, Annotations: in.spec.Annotations}
}

func (in *initProc) mark(phase string, at time.Time) {
	in.timings = append(in.timings, phaseMark{Phase: phase, At: at.UnixNano()})
}

// joinCgroup asks the parent to move init into the container's cgroup, then creates the
// cgroup namespace (rooted at the cgroup we are in when it is created).
//
// It happens as late as possible: pages are charged to the cgroup of the task that first
// touches them and stay charged there when the task moves, so everything the Go runtime and
// the setup allocated before this point is not charged to the container. That is what lets
// a container run under a 256 KiB memory limit. Hooks need the pid in its cgroup, so with
// hooks the join happens before them instead.
func (in *initProc) joinCgroup() error {
	if in.joined {
		return nil
	}
	in.joined = true
	if err := in.conn.send(msgCgroupReq, nil); err != nil {
		return err
	}
	prog, files, err := in.conn.expect(msgCgroupAck)
	closeFiles(files)
	if err != nil {
		return err
	}
	if in.filter, err = seccomp.UnmarshalFilter(prog); err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	if err := setAffinity(in.spec.Process.ExecCPUAffinity, false); err != nil {
		return err
	}
	if in.cfg.CgroupNS && !in.cfg.Exec {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	return nil
}

func (in *initProc) request(req, ack uint32) error {
	if err := in.conn.send(req, nil); err != nil {
		return err
	}
	_, files, err := in.conn.expect(ack)
	closeFiles(files)
	return err
}

// prepare validates and builds everything that allocates, before init joins the cgroup, so
// that the runtime's own memory is not charged to the container.
func (in *initProc) prepare() (*capabilities.Caps, error) {
	proc := in.spec.Process
	// Only a label needs SELinux detected (it scans the mount table), and only now can it be:
	// after pivot_root the host's mounts are gone.
	if proc.SelinuxLabel != "" || (in.spec.Linux != nil && in.spec.Linux.MountLabel != "") {
		selinux.Probe()
	}
	caps, err := capabilities.New(proc.Capabilities)
	if err != nil {
		return nil, fmt.Errorf("process.capabilities: %w", err)
	}
	dropped, err := caps.DropUngrantable()
	if err != nil {
		return nil, fmt.Errorf("process.capabilities: %w", err)
	}
	for _, w := range append(caps.Warnings(), dropped...) {
		if err := in.conn.send(msgWarning, []byte("process."+w)); err != nil {
			return nil, err
		}
	}
	if err := setAffinity(proc.ExecCPUAffinity, true); err != nil {
		return nil, err
	}
	return caps, nil
}

// run is init's path for create/run: build the container around the process, wait for
// `start`, exec.
func (in *initProc) run() error {
	spec, proc := in.spec, in.spec.Process
	caps, err := in.prepare()
	if err != nil {
		return err
	}
	if hasNamespace(spec, specs.UTSNamespace) {
		if err := setHostname(spec); err != nil {
			return err
		}
	}
	rc := &rootfs.Config{
		Spec: spec, Rootfs: in.cfg.Rootfs, Bundle: in.cfg.Bundle, NoPivot: in.cfg.NoPivot,
		CgroupMounts: in.cfg.CgroupMounts,
		BeforePivot:  in.beforePivot,
	}
	// Without a mount namespace of its own (new or joined) the container inherits the
	// runtime's. runc then mounts into the caller's mount table and chroots; runo never
	// changes the host's mounts: it only chroots into root.path and says what it skipped.
	ownMounts := hasNamespace(spec, specs.MountNamespace)
	if ownMounts {
		if err := rootfs.Setup(rc); err != nil {
			return err
		}
		in.mark("rootfs mounted", time.Now())
	} else if err := in.chrootOnly(); err != nil {
		return err
	}
	if proc.Terminal {
		if err := in.setupConsole(ownMounts); err != nil {
			return err
		}
	}
	// Before Finalize: it makes /proc/sys and maybe the root read-only.
	if err := writeSysctls(spec.Linux.Sysctl); err != nil {
		return err
	}
	if ownMounts {
		if err := os.MkdirAll(proc.Cwd, 0o755); err != nil {
			return fmt.Errorf("process.cwd %s: %w", proc.Cwd, err)
		}
		if err := rootfs.Finalize(rc); err != nil {
			return err
		}
		in.mark("rootfs finalized", time.Now())
	}
	if !in.cfg.NoNewKeyring {
		if err := joinSessionKeyring(in.cfg.ID, proc.SelinuxLabel); err != nil {
			return err
		}
	}
	if err := in.setupProcess(caps); err != nil {
		return err
	}
	fifo, err := openFifo(in.fdDir, in.fifoFd)
	if err != nil {
		return err
	}
	in.conn.f.Close()
	// startContainer hooks run before the byte that releases `start`, so that `start` reports
	// their failure and returns only once they are done.
	if h := spec.Hooks; h != nil && len(h.StartContainer) > 0 {
		if err := runHooks("startContainer", h.StartContainer, in.hookState(StatusCreated)); err != nil {
			fmt.Fprintf(os.Stderr, "runo init: %v\n", err)
			unix.Write(fifo, []byte{fifoHookFailed})
			os.Exit(1)
		}
	}
	if _, err := unix.Write(fifo, []byte{fifoStarted}); err != nil {
		os.Exit(1)
	}
	// fifo stays open: execve closes it (close-on-exec), which tells `start` the process runs.
	return execProcess(proc, in.exe)
}

// setupProcess applies the process's security context and attributes, joins the cgroup, and
// reports ready. What follows it must not allocate much (see joinCgroup).
func (in *initProc) setupProcess(caps *capabilities.Caps) error {
	spec, proc := in.spec, in.spec.Process
	if err := applyLSM(proc); err != nil {
		return err
	}
	if err := setProcessAttrs(proc, spec.Linux.Personality); err != nil {
		return err
	}
	if err := closeExtraFds(3 + in.cfg.PreserveFds); err != nil {
		return err
	}
	// Before any seccomp filter: the profile may forbid unshare(2) or getcwd(2).
	if err := in.joinCgroup(); err != nil {
		return err
	}
	// As root where possible; a directory only the process user may enter is entered after
	// the switch to that user (setupUser).
	cwdDone := enterCwd(proc.Cwd) == nil
	filter := in.filter
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: %w", err)
		}
	} else if filter != nil {
		// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before dropping it.
		if err := in.loadSeccomp(filter); err != nil {
			return err
		}
	}
	if err := setupUser(proc, caps, cwdDone); err != nil {
		return err
	}
	exe, err := lookPath(proc)
	if err != nil {
		return err
	}
	in.exe = exe
	if proc.NoNewPrivileges && filter != nil {
		// As late as possible, so the profile need allow only the few calls that follow.
		if err := in.loadSeccomp(filter); err != nil {
			return err
		}
	}
	in.mark("process set up", time.Now())
	return in.conn.sendJSON(msgReady, in.timings)
}

// execProcess replaces init with the container's process.
func execProcess(proc *specs.Process, exe string) error {
	env := processEnv(proc)
	var late []specs.POSIXRlimit
	for _, r := range proc.Rlimits {
		if addressSpaceRlimits[r.Type] {
			late = append(late, r)
		}
	}
	if len(late) > 0 {
		// The address-space limits last (see addressSpaceRlimits). unix.Exec allocates the
		// argument arrays first: make the same allocations now, so that its own come from
		// memory already mapped.
		if _, err := syscall.SlicePtrFromStrings(proc.Args); err != nil {
			return fmt.Errorf("process.args: %w", err)
		}
		if _, err := syscall.SlicePtrFromStrings(env); err != nil {
			return fmt.Errorf("process.env: %w", err)
		}
		for _, r := range late {
			lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
			if err := unix.Setrlimit(rlimitTypes[r.Type], &lim); err != nil {
				fmt.Fprintf(os.Stderr, "runo init: process.rlimits: %s (soft %d, hard %d), set before execve (after the seccomp filter, which must allow prlimit64): %v\n", r.Type, r.Soft, r.Hard, err)
				os.Exit(127)
			}
		}
	}
	if err := unix.Exec(exe, proc.Args, env); err != nil {
		fmt.Fprintf(os.Stderr, "runo init: exec %s: %v\n", exe, err)
		os.Exit(127)
	}
	return nil
}

// chrootOnly is the rootfs step of a container without a mount namespace.
func (in *initProc) chrootOnly() error {
	if len(in.spec.Mounts) > 0 || len(in.spec.Linux.MaskedPaths) > 0 || len(in.spec.Linux.ReadonlyPaths) > 0 || in.spec.Root.Readonly {
		msg := "linux.namespaces: no mount namespace: mounts, maskedPaths, readonlyPaths and root.readonly are not applied (they would change the host's mounts)"
		if err := in.conn.send(msgWarning, []byte(msg)); err != nil {
			return err
		}
	}
	if err := in.beforePivot(); err != nil {
		return err
	}
	if err := unix.Chdir(in.cfg.Rootfs); err != nil {
		return fmt.Errorf("root.path %s: %w", in.cfg.Rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", in.cfg.Rootfs, err)
	}
	return unix.Chdir("/")
}

// beforePivot runs the hooks that belong between mounting and pivot_root: prestart and
// createRuntime in the runtime's namespaces (by the parent), then createContainer here.
func (in *initProc) beforePivot() error {
	if h := in.spec.Hooks; h != nil && len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer) > 0 {
		// Hooks expect the container's pid to be in its cgroup (device hooks read it).
		if err := in.joinCgroup(); err != nil {
			return err
		}
	}
	if err := in.request(msgHooksReq, msgHooksAck); err != nil {
		return err
	}
	if h := in.spec.Hooks; h != nil && len(h.CreateContainer) > 0 {
		if err := runHooks("createContainer", h.CreateContainer, in.hookState(StatusCreating)); err != nil {
			return err
		}
	}
	return nil
}

func (in *initProc) loadSeccomp(f *seccomp.Filter) error {
	fd, err := f.Load()
	if err != nil {
		return fmt.Errorf("linux.seccomp: load filter: %w", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if err := in.conn.send(msgSeccompFd, nil, fd); err != nil {
		return err
	}
	_, files, err := in.conn.expect(msgSeccompAck)
	closeFiles(files)
	return err
}

// Bytes that init writes to the exec fifo for `start`.
const (
	fifoStarted    = '0'
	fifoHookFailed = '1'
)

// openFifo blocks until `runo start` opens the exec fifo's read end.
func openFifo(fdDir, fifoFd int) (int, error) {
	fd, err := unix.Openat(fdDir, strconv.Itoa(fifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open exec fifo: %w", err)
	}
	unix.Close(fifoFd)
	unix.Close(fdDir)
	return fd, nil
}

// closeExtraFds marks every fd from first up close-on-exec, so that nothing but stdio and the
// preserved fds reaches the container process (CVE-2024-21626 leaked a host directory fd).
func closeExtraFds(first int) error {
	if err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}
