package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
