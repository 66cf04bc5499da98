package libcontainer

import (
	"encoding/binary"
	"encoding/json"

	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/cgroups"
	"github.com/runo-dev/runo/libcontainer/rootfs"
	"github.com/runo-dev/runo/seccomp"
)

// CreateOpts are the create/run options of the CLI.
type CreateOpts struct {
	Root          string
	ID            string
	Bundle        string
	ConsoleSocket string
	PidfdSocket   string
	PidFile       string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// ExtraEnv is appended to process.env (LISTEN_FDS and LISTEN_PID for socket activation).
	ExtraEnv []string
	// Detach is false for a foreground `run`: then a terminal's pty master is returned to the
	// caller instead of going to a console socket.
	Detach bool
	Log    Logger
}

// ErrExist is returned when the id is taken.
var ErrExist = errors.New("container with given ID already exists")

// Created is the result of Create.
type Created struct {
	*Container
	// Console is the pty master for a foreground run with a terminal (nil otherwise).
	Console *os.File
}

// Create builds the container up to the "created" state: namespaces, rootfs, cgroup and
// process attributes are set, and init waits on the exec fifo for `start`. On any failure,
// everything this call made is removed again.
func Create(o CreateOpts) (*Created, error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	spec, bundle, err := LoadSpec(o.Bundle)
	if err != nil {
		return nil, err
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("process: required to create a container")
	}
	spec.Process.Env = append(spec.Process.Env, o.ExtraEnv...)
	if err := checkTerminalOpts(spec, o); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Root, 0o700); err != nil {
		return nil, fmt.Errorf("create root %s: %w", o.Root, err)
	}
	dir := filepath.Join(o.Root, o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, ErrExist
		}
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	lk, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer lk.Close()

	rootfsPath := spec.Root.Path
	if !filepath.IsAbs(rootfsPath) {
		rootfsPath = filepath.Join(bundle, rootfsPath)
	}
	st := &State{
		ID: o.ID, Bundle: bundle, Rootfs: rootfsPath, Created: time.Now().UTC(),
		Owner: currentOwner(), Annotations: spec.Annotations, CgroupsPath: spec.Linux.CgroupsPath,
		Hooks: spec.Hooks, SharedPidNS: !hasNewNamespace(spec, specs.PIDNamespace), Config: spec,
	}
	c := &Container{root: o.Root, dir: dir, state: st, log: o.Log}
	b := &builder{c: c, spec: spec, opts: o}
	b.debugf("config loaded")
	out, err := b.build()
	if err != nil {
		b.cleanup()
		os.RemoveAll(dir)
		return nil, err
	}
	return out, nil
}

func checkTerminalOpts(spec *specs.Spec, o CreateOpts) error {
	switch {
	case spec.Process.Terminal && o.Detach && o.ConsoleSocket == "":
		return fmt.Errorf("process.terminal: cannot allocate tty if runo will detach without setting console socket")
	case !spec.Process.Terminal && o.ConsoleSocket != "":
		return fmt.Errorf("--console-socket: cannot use console socket if runo will not allocate a tty (process.terminal is false)")
	case spec.Process.Terminal && !o.Detach && o.ConsoleSocket != "":
		return fmt.Errorf("--console-socket: cannot use console socket if runo will not detach")
	}
	return nil
}

// currentOwner is the user name of the caller for the state's "owner" field, read from
// /etc/passwd directly: os/user would go through NSS on every create.
func currentOwner() string {
	uid := strconv.Itoa(os.Getuid())
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return uid
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 4)
		if len(f) >= 3 && f[2] == uid {
			return f[0]
		}
	}
	return uid
}

// builder holds what one Create has made so far, so that cleanup can undo exactly that.
type builder struct {
	c      *Container
	spec   *specs.Spec
	opts   CreateOpts
	cg     cgroups.Manager
	cgMade bool
	sync   *syncConn
	pid    int
	cmd    *exec.Cmd
	exec   bool // a `runo exec` process, not the container's init
	// seccompProg is the encoded seccomp filter for init (nil without seccomp).
	seccompProg []byte
	// subCgroup(s): exec --cgroup targets inside the container's cgroup.
	subCgroup  string
	subCgroups map[string]string
}

func (b *builder) build() (*Created, error) {
	spec, st := b.spec, b.c.state
	cg, err := cgroups.New(cgroups.Config{Path: spec.Linux.CgroupsPath, ContainerID: st.ID})
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	b.cg = cg
	b.cgMade = true
	// The directories now: init bind-mounts them for "cgroup" mounts. The limits are written
	// later, while init starts (configure).
	if err := cg.Create(); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	if err := unix.Mkfifo(b.c.fifoPath(), 0o622); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	// Writable by any process user (the umask took the bits away), so init can open it after
	// switching to process.user.
	if err := os.Chmod(b.c.fifoPath(), 0o622); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	fifo, err := os.OpenFile(b.c.fifoPath(), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()

	if err := b.spawn(fifo); err != nil {
		return nil, err
	}
	b.debugf("init %d in its namespaces", b.pid)
	console, err := b.configure()
	if err != nil {
		return nil, err
	}
	b.debugf("init %d ready", b.pid)
	startTime, _, err := processStartTime(b.pid)
	if err != nil {
		return nil, fmt.Errorf("container init exited during setup")
	}
	st.InitPid, st.InitStartTime = b.pid, startTime
	st.Namespaces = namespacePaths(spec, b.pid)
	if err := st.save(b.c.dir); err != nil {
		return nil, err
	}
	if err := b.publish(); err != nil {
		return nil, err
	}
	b.sync.f.Close()
	return &Created{Container: b.c, Console: console}, nil
}

// logInitPhases puts init's own phase marks (msgReady's payload) in the --debug log.
func (b *builder) logInitPhases(payload []byte) {
	if b.opts.Log == nil || len(payload) == 0 {
		return
	}
	var marks []phaseMark
	if json.Unmarshal(payload, &marks) != nil {
		return
	}
	for _, m := range marks {
		b.opts.Log.Debugf("init %d: %s at %s", b.pid, m.Phase, time.Unix(0, m.At).UTC().Format(time.RFC3339Nano))
	}
}

func (b *builder) debugf(format string, args ...any) {
	if b.opts.Log != nil {
		b.opts.Log.Debugf(format, args...)
	}
}

// cgroupResources is linux.resources with runc's default device rules appended: the standard
// devices stay usable whatever the spec's device rules say, as with runc.
func cgroupResources(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	r.Devices = append(append([]specs.LinuxDeviceCgroup{}, r.Devices...), cgroups.DefaultDeviceRules...)
	return &r
}

// spawn starts `runo init` from the sealed binary and runs the C bootstrap conversation until
// the container's init exists.
func (b *builder) spawn(fifo *os.File) error {
	bin, err := sealedBinary()
	if err != nil {
		return fmt.Errorf("prepare init binary: %w", err)
	}
	defer bin.Close()
	parent, child, err := newSyncPair()
	if err != nil {
		return err
	}
	defer child.Close()
	b.sync = &syncConn{f: parent}

	cmd := &exec.Cmd{
		Path:   fmt.Sprintf("/proc/self/fd/%d", bin.Fd()),
		Args:   []string{"runo", "init"},
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
	// Preserved fds keep their numbers (3 … 3+N-1); runo's own fds follow them.
	for i := 0; i < b.opts.PreserveFds; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), fmt.Sprintf("preserved-%d", 3+i)))
	}
	syncFd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	cmd.Env = []string{
		fmt.Sprintf("%s=%d", envInitPipe, syncFd),
		// init is short-lived and execs soon: collecting garbage would only cost time.
		"GOGC=off",
		"GOMAXPROCS=1",
	}
	if fifo != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, fifo)
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", envFifoFd, syncFd+1))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	b.cmd = cmd
	if err := b.sync.send(msgBootstrap, bootstrapPayload(b.spec)); err != nil {
		return err
	}
	for {
		t, payload, files, err := b.sync.recv()
		closeFiles(files)
		if err != nil {
			return fmt.Errorf("container init: %w", err)
		}
		switch t {
		case msgUsermapReq:
			if err := writeIDMaps(int(int32(binary.NativeEndian.Uint32(payload))), b.spec); err != nil {
				return err
			}
			if err := b.sync.send(msgUsermapAck, nil); err != nil {
				return err
			}
		case msgChildPid:
			b.pid = int(int32(binary.NativeEndian.Uint32(payload)))
			cmd.Wait()
			b.cmd = nil
			return nil
		case msgError:
			return errors.New(string(payload))
		default:
			return fmt.Errorf("protocol error: unexpected %s message during bootstrap", msgName(t))
		}
	}
}

// bootstrapPayload encodes the records that nsenter.c reads.
func bootstrapPayload(spec *specs.Spec) []byte {
	var buf []byte
	rec := func(kind uint32, v []byte) {
		buf = binary.NativeEndian.AppendUint32(buf, kind)
		buf = binary.NativeEndian.AppendUint32(buf, uint32(len(v)))
		buf = append(buf, v...)
	}
	var flags uint32
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			flags |= uint32(nsFlags[ns.Type].flag)
		} else {
			rec(recNsPath, []byte(fmt.Sprintf("%d:%s", nsFlags[ns.Type].flag, ns.Path)))
		}
	}
	rec(recCloneFlags, binary.NativeEndian.AppendUint32(nil, flags))
	if len(spec.Linux.TimeOffsets) > 0 {
		var sb strings.Builder
		for clock, off := range spec.Linux.TimeOffsets {
			fmt.Fprintf(&sb, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
		rec(recTimens, []byte(sb.String()))
	}
	if spec.Process.OOMScoreAdj != nil {
		rec(recOomScore, []byte(strconv.Itoa(*spec.Process.OOMScoreAdj)))
	}
	return buf
}

func writeIDMaps(pid int, spec *specs.Spec) error {
	format := func(ms []specs.LinuxIDMapping) []byte {
		var sb strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&sb, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		}
		return []byte(sb.String())
	}
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/uid_map", pid), format(spec.Linux.UIDMappings), 0); err != nil {
		return fmt.Errorf("linux.uidMappings: write uid_map: %w", err)
	}
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/gid_map", pid), format(spec.Linux.GIDMappings), 0); err != nil {
		return fmt.Errorf("linux.gidMappings: write gid_map: %w", err)
	}
	return nil
}

// configure sends init its configuration and serves its requests until it is ready.
func (b *builder) configure() (*os.File, error) {
	cfg := &initConfig{
		ID: b.c.state.ID, Bundle: b.c.state.Bundle, Rootfs: b.c.state.Rootfs, Pid: b.pid,
		Spec: b.spec, NoPivot: b.opts.NoPivot, NoNewKeyring: b.opts.NoNewKeyring,
		PreserveFds: b.opts.PreserveFds, Exec: b.exec,
		CgroupNS: hasNewNamespace(b.spec, specs.CgroupNamespace),
	}
	for _, m := range b.cg.MountPoints() {
		cfg.CgroupMounts = append(cfg.CgroupMounts, rootfs.CgroupMount{Source: m.Source, Dest: m.Dest, Symlinks: m.Symlinks})
	}
	if err := b.sync.sendJSON(msgConfig, cfg); err != nil {
		return nil, err
	}
	// While init's Go runtime starts, on the other core: build the seccomp program (init gets
	// it with msgCgroupAck and needs no libseccomp work itself)...
	if sc := b.spec.Linux.Seccomp; sc != nil {
		f, err := seccomp.Build(sc)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp: %w", err)
		}
		if b.seccompProg, err = f.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("linux.seccomp: %w", err)
		}
	}
	if !b.exec {
		// ...and write the cgroup limits: init needs them only once it joins the cgroup,
		// late in its setup.
		if err := b.cg.Set(cgroupResources(b.spec)); err != nil {
			return nil, fmt.Errorf("linux.resources: %w", err)
		}
		b.debugf("cgroup %s ready", b.spec.Linux.CgroupsPath)
	}
	var console *os.File
	for {
		t, payload, files, err := b.sync.recv()
		if err != nil {
			closeFiles(files)
			if console != nil {
				console.Close()
			}
			return nil, b.initGone(err)
		}
		reply, err := b.serve(t, payload, files, &console)
		if err == nil && reply != 0 {
			var body []byte
			if reply == msgCgroupAck {
				body = b.seccompProg
			}
			err = b.sync.send(reply, body)
		}
		if err != nil || t == msgReady {
			if err != nil && console != nil {
				console.Close()
				console = nil
			}
			return console, err
		}
	}
}

func (b *builder) serve(t uint32, payload []byte, files []*os.File, console **os.File) (uint32, error) {
	switch t {
	case msgCgroupReq:
		if b.subCgroup != "" || len(b.subCgroups) > 0 {
			if err := joinSubCgroups(b.cg, b.pid, b.subCgroup, b.subCgroups); err != nil {
				return 0, err
			}
			return msgCgroupAck, nil
		}
		if err := b.cg.Apply(b.pid); err != nil {
			return 0, fmt.Errorf("join cgroup: %w", err)
		}
		return msgCgroupAck, nil
	case msgHooksReq:
		state := b.c.specState(StatusCreating)
		state.Pid = b.pid
		if h := b.spec.Hooks; h != nil {
			if err := runHooks("prestart", h.Prestart, state); err != nil {
				return 0, err
			}
			if err := runHooks("createRuntime", h.CreateRuntime, state); err != nil {
				return 0, err
			}
		}
		return msgHooksAck, nil
	case msgConsole:
		if len(files) != 1 {
			closeFiles(files)
			return 0, fmt.Errorf("protocol error: console message without a pty")
		}
		if b.opts.ConsoleSocket != "" {
			defer files[0].Close()
			if err := sendConsole(b.opts.ConsoleSocket, files[0]); err != nil {
				return 0, err
			}
		} else {
			// Foreground: size the pty and stop its \n → \r\n translation (our own terminal
			// does it) before init goes on, so the process never sees a 0x0 window.
			prepareForegroundPty(files[0])
			*console = files[0]
		}
		return msgConsoleAck, nil
	case msgSeccompFd:
		if len(files) != 1 {
			closeFiles(files)
			return 0, fmt.Errorf("protocol error: seccomp message without a listener fd")
		}
		defer files[0].Close()
		if err := sendSeccompListener(b.spec, b.c.specState(StatusCreating), b.pid, files[0]); err != nil {
			return 0, err
		}
		return msgSeccompAck, nil
	case msgReady:
		closeFiles(files)
		b.logInitPhases(payload)
		return 0, nil
	case msgWarning:
		closeFiles(files)
		if b.opts.Log != nil {
			b.opts.Log.Warnf("%s", payload)
		}
		return 0, nil
	case msgError:
		closeFiles(files)
		return 0, decodeError(payload)
	}
	closeFiles(files)
	return 0, fmt.Errorf("protocol error: unexpected %s message", msgName(t))
}

// initGone explains a lost connection to init: how it ended, if it did.
func (b *builder) initGone(err error) error {
	var ws unix.WaitStatus
	wpid, werr := unix.Wait4(b.pid, &ws, unix.WNOHANG, nil)
	for i := 0; werr == nil && wpid == 0 && i < 100; i++ {
		time.Sleep(time.Millisecond)
		wpid, werr = unix.Wait4(b.pid, &ws, unix.WNOHANG, nil)
	}
	if werr != nil || wpid != b.pid {
		return fmt.Errorf("container init: %w", err)
	}
	b.pid = 0 // reaped
	if ws.Signaled() {
		if ws.Signal() == unix.SIGKILL {
			return fmt.Errorf("container init was killed during setup (SIGKILL: out of memory under linux.resources.memory.limit?)")
		}
		return fmt.Errorf("container init was killed during setup by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Errorf("container init exited during setup with status %d", ws.ExitStatus())
}

// cleanup undoes a failed Create: kill init, remove the cgroup. The state dir is removed by
// the caller.
func (b *builder) cleanup() {
	if b.cmd != nil && b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
	}
	if b.pid > 0 {
		unix.Kill(b.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(b.pid, &ws, 0, nil)
	}
	if b.sync != nil {
		b.sync.f.Close()
	}
	if b.cgMade {
		if err := b.cg.Destroy(); err != nil && b.opts.Log != nil {
			b.opts.Log.Warnf("remove cgroup after failed create: %v", err)
		}
	}
}

func namespacePaths(spec *specs.Spec, pid int) map[specs.LinuxNamespaceType]string {
	out := map[specs.LinuxNamespaceType]string{}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path != "" {
			out[ns.Type] = ns.Path
		} else {
			out[ns.Type] = fmt.Sprintf("/proc/%d/ns/%s", pid, nsFlags[ns.Type].proc)
		}
	}
	return out
}

// writePidFile writes the pid atomically (temporary name, then rename), with no newline.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644)
}

// publish tells the caller's tools about the new process: --pid-file and --pidfd-socket.
func (b *builder) publish() error {
	if b.opts.PidFile != "" {
		if err := writePidFile(b.opts.PidFile, b.pid); err != nil {
			return err
		}
	}
	if b.opts.PidfdSocket != "" {
		if err := sendPidfd(b.opts.PidfdSocket, b.pid); err != nil {
			return err
		}
	}
	return nil
}

// initConfig is the msgConfig payload: everything the Go side of init needs.
type initConfig struct {
	ID           string               `json:"id"`
	Bundle       string               `json:"bundle"`
	Rootfs       string               `json:"rootfs"`
	Pid          int                  `json:"pid"`
	Spec         *specs.Spec          `json:"spec"`
	NoPivot      bool                 `json:"no_pivot"`
	NoNewKeyring bool                 `json:"no_new_keyring"`
	PreserveFds  int                  `json:"preserve_fds"`
	CgroupNS     bool                 `json:"cgroup_ns"`
	CgroupMounts []rootfs.CgroupMount `json:"cgroup_mounts"`
	// Exec is set for a `runo exec` process: join, don't build.
	Exec bool `json:"exec"`
}
