package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

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

	// Files are inherited by position: stdio, the preserved fds (3 … 3+N-1, same numbers),
	// then the sync socket and the exec fifo.
	files := []uintptr{0, 1, 2}
	for i := 0; i < b.opts.PreserveFds; i++ {
		files = append(files, uintptr(3+i))
	}
	syncFd := len(files)
	files = append(files, child.Fd())
	env := []string{
		fmt.Sprintf("%s=%d", envInitPipe, syncFd),
		// init is short-lived and execs soon: collecting garbage would only cost time.
		"GOGC=off",
		// Two Ps, set before the runtime sizes itself to the machine. Not one: with no idle
		// P, the runtime's monitor thread takes the P away from each system call that blocks
		// for more than 20 µs and wakes another thread to run it (A/B: 1 P is about 1.3 ms
		// slower per run and per exec). The CLI differs: it measured best on one.
		"GOMAXPROCS=2",
	}
	if fifo != nil {
		env = append(env, fmt.Sprintf("%s=%d", envFifoFd, len(files)))
		files = append(files, fifo.Fd())
	}
	// syscall.ForkExec rather than os/exec: os.StartProcess probes pidfd support with an extra
	// clone in every new process, and this process is gone once the bootstrap is over.
	pid, err := syscall.ForkExec(fmt.Sprintf("/proc/self/fd/%d", bin.Fd()), []string{"runo", "init"},
		&syscall.ProcAttr{Env: env, Files: files})
	if err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	b.bootPid = pid
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
			b.reapBootstrap(false)
			return nil
		case msgError:
			return errors.New(string(payload))
		default:
			return fmt.Errorf("protocol error: unexpected %s message during bootstrap", msgName(t))
		}
	}
}

// reapBootstrap waits for the bootstrap process (the one nsenter.c forks init from), killing it
// first when the creation is being undone.
func (b *builder) reapBootstrap(kill bool) {
	if b.bootPid <= 0 {
		return
	}
	if kill {
		unix.Kill(b.bootPid, unix.SIGKILL)
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(b.bootPid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	b.bootPid = 0
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
