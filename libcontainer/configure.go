package libcontainer

import (
	"fmt"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runo-dev/runo/libcontainer/rootfs"
	"github.com/runo-dev/runo/seccomp"
)

// initSpec is the part of the spec init reads, so that it decodes no more JSON than it needs:
// the seccomp profile reaches it compiled, the parent writes the resources and runs the
// poststart and poststop hooks, and an exec'd process mounts nothing.
func initSpec(spec *specs.Spec, exec bool) *specs.Spec {
	s := *spec
	linux := *spec.Linux
	linux.Seccomp, linux.Resources = nil, nil
	s.Linux = &linux
	if spec.Hooks != nil {
		h := *spec.Hooks
		h.Poststart, h.Poststop = nil, nil
		s.Hooks = &h
	}
	if exec {
		s.Mounts = nil
	}
	return &s
}

// configure sends init its configuration and serves its requests until it is ready.
func (b *builder) configure() (*os.File, error) {
	cfg := &initConfig{
		ID: b.c.state.ID, Bundle: b.c.state.Bundle, Rootfs: b.c.state.Rootfs, Pid: b.pid,
		Spec: initSpec(b.spec, b.exec), NoPivot: b.opts.NoPivot, NoNewKeyring: b.opts.NoNewKeyring,
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
		b.hooksRan = true
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
