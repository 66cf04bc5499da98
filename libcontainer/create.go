package libcontainer

import (
	"encoding/json"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/cgroups"
	"github.com/runo-dev/runo/libcontainer/rootfs"
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
	if err := checkTerminalOpts(spec.Process.Terminal, o.Detach, o.ConsoleSocket); err != nil {
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
		Owner: currentOwner(), Config: spec,
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

// checkTerminalOpts checks that a terminal, detaching and a console socket go together (create,
// run and exec).
func checkTerminalOpts(terminal, detach bool, consoleSocket string) error {
	switch {
	case terminal && detach && consoleSocket == "":
		return fmt.Errorf("process.terminal: cannot allocate tty if runo will detach without setting console socket")
	case !terminal && consoleSocket != "":
		return fmt.Errorf("--console-socket: cannot use console socket if runo will not allocate a tty (process.terminal is false)")
	case terminal && !detach && consoleSocket != "":
		return fmt.Errorf("--console-socket: cannot use console socket if runo will not detach")
	}
	return nil
}

// currentOwner is the user name of the caller for the state's "owner" field, read from
// /etc/passwd directly: os/user would go through NSS on every create.
func currentOwner() string {
	uid := os.Getuid()
	if f := passwdEntry(uint32(uid)); f != nil {
		return f[0]
	}
	return strconv.Itoa(uid)
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
	// bootPid is the bootstrap process that forks init, until it has been reaped.
	bootPid int
	exec    bool // a `runo exec` process, not the container's init
	// hooksRan: the prestart/createRuntime/createContainer hooks have started.
	hooksRan bool
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
	b.cg, b.c.cg = cg, cg
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
	if err := b.record(); err != nil {
		if console != nil {
			console.Close()
		}
		return nil, err
	}
	b.sync.f.Close()
	return &Created{Container: b.c, Console: console}, nil
}

// record saves the state of the ready container and publishes its pid.
func (b *builder) record() error {
	st := b.c.state
	startTime, _, err := processStartTime(b.pid)
	if err != nil {
		return fmt.Errorf("container init exited during setup")
	}
	st.InitPid, st.InitStartTime = b.pid, startTime
	if err := st.save(b.c.dir); err != nil {
		return err
	}
	return b.publish()
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

// cleanup undoes a failed Create: kill init, remove the cgroup. The state dir is removed by
// the caller.
func (b *builder) cleanup() {
	b.reapBootstrap(true)
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
	// Once the create-phase hooks have started, a failure continues the lifecycle at
	// "destroy", which ends with the poststop hooks (runtime-spec lifecycle steps 3-5, 12-13):
	// they undo what the others set up.
	if b.hooksRan {
		b.c.runPoststop()
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
			if b.opts.PidFile != "" {
				os.Remove(b.opts.PidFile) // it would name a process the caller's cleanup kills
			}
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
